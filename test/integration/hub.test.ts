// The hub's network listener and machines joining it, with real daemons (each its own OCFLEET_HOME):
// what the listener refuses (the daemon token, browsers, a wrong certificate), invites (single use,
// expiring), approval, liveness in `machine list`, and revocation cutting the link at once.
import { readFileSync } from "node:fs";
import { Database } from "../../src/daemon/db/sqlite-driver.js";
import { afterAll, describe, expect, it } from "vitest";
import { FleetError } from "../../src/protocol/errors.js";
import { api } from "../../src/protocol/api/index.js";
import type { MachineView, MembershipView } from "../../src/protocol/api/index.js";
import { LINK_RATE, LINK_VERSION } from "../../src/protocol/link.js";
import { statePaths } from "../../src/protocol/statefile.js";
import { SecretKeeper } from "../../src/daemon/crypto.js";
import { cleanupHomes, cliJson, connectAsOwner, createHome, daemonState, killDaemon, runCli, waitFor } from "../helpers/daemon.js";
import { enableHub, helloOver, invite } from "../helpers/hub-net.js";
import { startPty } from "../helpers/pty.js";

afterAll(cleanupHomes);

/** Reads a daemon's view through the real client until `accept` holds (each read waits for the last). */
async function until<T>(
  home: string,
  what: string,
  read: (c: Awaited<ReturnType<typeof connectAsOwner>>) => Promise<T>,
  accept: (v: T) => boolean,
): Promise<T> {
  const connection = await connectAsOwner(home);
  const deadline = Date.now() + 20_000;
  try {
    for (;;) {
      const value = await read(connection);
      if (accept(value)) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(value)}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } finally {
    connection.close();
  }
}

const membership = (home: string, accept: (v: MembershipView | null) => boolean, what: string) =>
  until(home, what, (c) => c.call(api.membership.status, {}), accept);
const machines = (home: string, accept: (v: MachineView[]) => boolean, what: string) => until(home, what, (c) => c.call(api.machines.list, {}), accept);

describe("the hub's network listener", () => {
  it("is TLS with a generated certificate, refuses the daemon token, browsers and a wrong pin, and welcomes a session-less client", async () => {
    const hub = createHome("ocf-hub-");
    const status = await enableHub(hub);
    expect(status).toMatchObject({ enabled: true, listening: true, certificate: "generated" });
    expect(status.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    expect(status.fingerprint).toMatch(/^SHA256:([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const { url, fingerprint } = status as { url: string; fingerprint: string };

    // The daemon token proves the local OS user on loopback; from the network it is refused.
    const token = daemonState(hub)!.token;
    const withToken = await helloOver(url, fingerprint, { token });
    expect(withToken.first).toMatchObject({ type: "error", error: { code: "unauthenticated", message: expect.stringContaining("daemon token") } });
    expect(withToken.closeCode).toBe(4401);

    // Without a token the hello works, and nobody is local: only a session or sign-in can follow.
    const anonymous = await helloOver(url, fingerprint, {});
    expect(anonymous.first).toMatchObject({ type: "welcome", caller: { kind: "network", user: null } });

    // A browser (any Origin) is refused before any WebSocket exists.
    await expect(helloOver(url, fingerprint, {}, { origin: "https://evil.example" })).rejects.toMatchObject({ status: 403 });

    // A second hub has another certificate: the pin of the first refuses it, before any hello is sent.
    const other = createHome("ocf-hub-");
    const otherStatus = await enableHub(other);
    expect(otherStatus.fingerprint).not.toBe(fingerprint);
    await expect(helloOver(otherStatus.url!, fingerprint, {})).rejects.toMatchObject({ code: "FINGERPRINT_MISMATCH" });

    // The listener comes back after a restart, at the same address with the same certificate.
    await killDaemon(hub, "SIGTERM");
    const again = await cliJson(hub, ["hub", "status"]);
    expect(again).toMatchObject({ enabled: true, listening: true, url, fingerprint });
    const off = await cliJson(hub, ["hub", "disable"]);
    expect(off).toMatchObject({ enabled: false, listening: false });
    await expect(helloOver(url, fingerprint, {})).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("refuses a machine link on the loopback listener", async () => {
    const home = createHome("ocf-hub-");
    const connection = await connectAsOwner(home);
    connection.close();
    const state = daemonState(home)!;
    const { FleetConnection } = await import("../../src/client/connection.js");
    // The loopback hello with a link field: the connection library has no way to send one, so send it raw.
    const { MiniWebSocket } = await import("../../src/client/websocket.js");
    const ws = await MiniWebSocket.connect({ host: state.host, port: state.port, timeoutMs: 5000 });
    const reply = await new Promise<string>((resolve) => {
      ws.once("message", resolve);
      ws.send(JSON.stringify({ type: "hello", protocol: 1, client: { name: "t", version: "0" }, token: state.token, link: { version: LINK_VERSION } }));
    });
    ws.terminate();
    expect(JSON.parse(reply)).toMatchObject({ type: "error", error: { code: "unauthenticated", message: expect.stringContaining("network listener") } });
    expect(FleetConnection).toBeDefined();
  });
});

describe("machines joining a hub", () => {
  it("invite, join, approve: the machine is online with its heartbeat and round trip; the invite cannot be used again", async () => {
    const hub = createHome("ocf-hub-");
    const status = await enableHub(hub);
    const token = await invite(hub, { name: "builder" });
    expect(token).toMatch(/^ocf1\./);

    const machine = createHome("ocf-agent-");
    const joined = await runCli(machine, ["machine", "join", token, "--no-wait", "--json"]);
    expect(joined.code, joined.stderr).toBe(0);
    const pending = await membership(machine, (m) => m?.state === "pending", "the machine to wait for approval");
    expect(pending).toMatchObject({ hubUrl: status.url, fingerprint: status.fingerprint, name: "builder", connected: true });
    const listed = await machines(hub, (list) => list.some((m) => m.name === "builder"), "the hub to list the machine");
    expect(listed.find((m) => m.name === "builder")).toMatchObject({ approval: "pending", online: false, isLocal: false });

    const approved = await runCli(hub, ["machine", "approve", "builder"]);
    expect(approved.code, approved.stderr).toBe(0);
    await membership(machine, (m) => m?.state === "approved", "the machine to be approved");
    const online = await machines(
      hub,
      (list) => list.some((m) => m.name === "builder" && m.online && m.rttMs !== null),
      "the machine online with a round trip",
    );
    const builder = online.find((m) => m.name === "builder")!;
    expect(builder).toMatchObject({ approval: "approved", online: true, versionMatches: true });
    expect(builder.lastHeartbeatAt).not.toBeNull();
    const text = await runCli(hub, ["machine", "list"]);
    expect(text.stdout).toMatch(/builder .*online/);

    // The same invite again, from a third machine: refused, and that machine stops trying.
    const third = createHome("ocf-agent-");
    expect((await runCli(third, ["machine", "join", token, "--no-wait"])).code).toBe(0);
    const refused = await membership(third, (m) => m?.state === "refused", "the used invite to be refused");
    expect(refused?.reason).toMatch(/used already/);

    // Revocation cuts the live link at once; the machine says why and stops retrying.
    const revoked = await runCli(hub, ["machine", "revoke", "builder", "--reason", "retired"]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const cut = await membership(machine, (m) => m?.state === "revoked", "the machine to hear it was revoked");
    expect(cut).toMatchObject({ reason: "retired", connected: false });
    const after = await machines(hub, () => true, "the machine list");
    expect(after.find((m) => m.name === "builder")).toMatchObject({ approval: "revoked", online: false, approvalReason: "retired" });

    // Its credential is refused from now on: present it as the machine would (read from its stopped daemon's store).
    await killDaemon(machine, "SIGTERM");
    const paths = statePaths(machine);
    const db = new Database(paths.db, { readonly: true });
    const row = db.prepare("SELECT machine_id, credential_sealed FROM hub_membership").get() as { machine_id: string; credential_sealed: string };
    db.close();
    const credential = SecretKeeper.loadOrCreate(paths.secretKey).decrypt(row.credential_sealed);
    const again = await helloOver(status.url!, status.fingerprint!, { link: { version: LINK_VERSION, machine: { id: row.machine_id, credential } } });
    expect(again.first).toMatchObject({ type: "error", error: { code: "unauthenticated", message: expect.stringContaining("revoked") } });
    const wrong = await helloOver(status.url!, status.fingerprint!, {
      link: { version: LINK_VERSION, machine: { id: row.machine_id, credential: `${credential}x` } },
    });
    expect(wrong.first).toMatchObject({ type: "error", error: { code: "unauthenticated" } });
  });

  it("an expired invite is refused; a pre-approved one joins at once; a wrong pin in the token never reaches the hub", async () => {
    const hub = createHome("ocf-hub-");
    await enableHub(hub);
    const owner = await connectAsOwner(hub);
    const short = await owner.call(api.hub.invite, { ttlMs: 1000 });
    owner.close();
    await waitFor("the invite to expire", () => Date.now() > short.expiresAt + 50, 5000);
    const late = createHome("ocf-agent-");
    expect((await runCli(late, ["machine", "join", short.token, "--no-wait"])).code).toBe(0);
    expect((await membership(late, (m) => m?.state === "refused", "the expired invite to be refused"))?.reason).toMatch(/expired/);
    // A machine the hub refused is not part of its fleet: its commands go to its own daemon again.
    const own = await runCli(late, ["worker", "list", "--json"]);
    expect(own.code, own.stderr).toBe(0);

    const quick = createHome("ocf-agent-");
    const joined = await runCli(quick, ["machine", "join", await invite(hub, { approve: true, name: "quick" })]);
    expect(joined.code, joined.stderr).toBe(0);
    expect(joined.stdout).toMatch(/part of the fleet .* as quick/);

    // A token whose fingerprint is not the hub's certificate (as if a proxy sat in between): the agent refuses the connection.
    const other = createHome("ocf-hub-");
    await enableHub(other);
    const otherToken = await invite(other);
    const decoded = JSON.parse(Buffer.from(otherToken.slice(5), "base64url").toString());
    const hubStatus = await cliJson(hub, ["hub", "status"]);
    const forged = `ocf1.${Buffer.from(JSON.stringify({ ...decoded, url: hubStatus.url })).toString("base64url")}`;
    const victim = createHome("ocf-agent-");
    expect((await runCli(victim, ["machine", "join", forged, "--no-wait"])).code).toBe(0);
    const view = await membership(victim, (m) => (m?.lastError ?? "").includes("not the one pinned"), "the pin to refuse the hub");
    expect(view?.state).toBe("joining");
  });

  it("refuses a malformed invite with a message that says what to do", async () => {
    const home = createHome("ocf-agent-");
    const result = await runCli(home, ["machine", "join", "not-a-token"]);
    expect(result.code).toBe(2); // a usage error: the argument is wrong
    expect(result.stderr).toMatch(/not an ocfleet invite/);
    expect(FleetError).toBeDefined();
  });
});

describe("a remote client of the hub", () => {
  it("signs in with a login code after confirming the fingerprint once, then runs commands with --hub; a wrong pin is refused", async () => {
    const hub = createHome("ocf-hub-");
    const { url, fingerprint } = (await enableHub(hub)) as { url: string; fingerprint: string };
    const client = createHome("ocf-client-");
    const code = async () => (await cliJson(hub, ["auth", "code"])).code as string;

    // Not signed in yet: the command says how.
    const before = await runCli(client, ["--hub", url, "worker", "list"]);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/has not signed in to .*ocfleet login --hub/);

    // A pin that is not the hub's: refused before any code is sent.
    const otherHub = createHome("ocf-hub-");
    const other = await enableHub(otherHub);
    const wrong = await runCli(client, ["login", "--hub", url, "--code", await code(), "--fingerprint", other.fingerprint!]);
    expect(wrong.code, wrong.stderr).toBe(1);
    expect(wrong.stderr).toMatch(/not the one pinned/);

    // Declining the prompt trusts nothing; accepting it pins the fingerprint shown.
    const declined = await runCli(client, ["login", "--hub", url, "--code", await code()], { stdin: "n\n" });
    expect(declined.code).toBe(1);
    expect(declined.stderr).toContain(fingerprint);
    expect(declined.stderr).toMatch(/not trusted; .*--fingerprint/);
    const signedIn = await runCli(client, ["login", "--hub", url, "--code", await code(), "--json"], { stdin: "yes\n" });
    expect(signedIn.code, signedIn.stderr).toBe(0);
    expect(JSON.parse(signedIn.stdout)).toMatchObject({ user: { level: "system_admin" } });

    // From now on --hub (or OCFLEET_HUB) talks to the hub, no local daemon needed.
    const machinesThere = await runCli(client, ["--hub", url, "machine", "list", "--json"]);
    expect(machinesThere.code, machinesThere.stderr).toBe(0);
    expect(JSON.parse(machinesThere.stdout).map((m: MachineView) => m.hostname)).toHaveLength(1);
    const viaEnv = await runCli(client, ["worker", "list", "--json"], { env: { OCFLEET_HUB: url } });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(JSON.parse(viaEnv.stdout)).toEqual([]);
    expect(daemonState(client)).toBeNull();
  });
});

describe("a machine that joined a hub", () => {
  it("talks to its hub by default (every command and the TUI), says how to sign in there, and --hub local reaches its own daemon", async () => {
    const hub = createHome("ocf-hub-");
    const { url } = (await enableHub(hub)) as { url: string };
    const near = createHome("ocf-agent-");
    const joined = await runCli(near, ["machine", "join", await invite(hub, { approve: true, name: "near" })]);
    expect(joined.code, joined.stderr).toBe(0);

    // Not signed in to the hub yet: the command says so, and how, instead of quietly using this machine's daemon.
    const before = await runCli(near, ["worker", "list"]);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain(`ocfleet login --hub ${url} --code`);
    expect(before.stderr).toMatch(/--hub local/);
    // What is about this machine itself stays with its own daemon.
    expect(await cliJson(near, ["machine", "status"])).toMatchObject({ state: "approved", hubUrl: url });

    // A login code made on the hub signs this machine's client in there; the invite's fingerprint is already pinned (no prompt).
    const { code } = await cliJson(hub, ["auth", "code"]);
    const login = await runCli(near, ["login", "--code", code]);
    expect(login.code, login.stderr).toBe(0);
    const there = await cliJson<MachineView[]>(near, ["machine", "list"]);
    expect(there.map((m) => m.name)).toContain("near");
    expect(there.find((m) => m.name === "near")).toMatchObject({ isLocal: false, approval: "approved" });

    // --hub local and OCFLEET_HUB=local: this machine's own daemon, which knows only itself.
    const own = await runCli(near, ["--hub", "local", "machine", "list", "--json"]);
    expect(own.code, own.stderr).toBe(0);
    expect(JSON.parse(own.stdout).map((m: MachineView) => m.isLocal)).toEqual([true]);
    const viaEnv = await runCli(near, ["machine", "list", "--json"], { env: { OCFLEET_HUB: "local" } });
    expect(JSON.parse(viaEnv.stdout).map((m: MachineView) => m.name)).not.toContain("near");

    // The TUI too: the hub's fleet (this machine as the hub calls it), and with --hub local this machine's own.
    const env = { ...process.env, CI: "true", OCFLEET_HOME: near };
    const tui = startPty([], { env, cols: 110, rows: 30 });
    try {
      await tui.waitFor("● connected");
      await tui.waitFor(/\bnear\b/);
    } finally {
      tui.kill();
    }
    const local = startPty(["--hub", "local"], { env, cols: 110, rows: 30 });
    try {
      await local.waitFor("● connected");
      await local.waitFor(/status: (online|offline)/);
      expect(local.screen().join("\n")).not.toMatch(/\bnear\b/);
    } finally {
      local.kill();
    }

    // Leaving the hub: commands answer to this machine's daemon again.
    expect((await runCli(near, ["machine", "leave"])).code).toBe(0);
    const after = await cliJson<MachineView[]>(near, ["machine", "list"]);
    expect(after.map((m) => m.isLocal)).toEqual([true]);
  });
});

describe("the hub's limits on a machine link", () => {
  it("cuts a link that sends faster than its limit, with the reason and a log line, and carries on serving", async () => {
    const hub = createHome("ocf-hub-");
    const { url, fingerprint } = (await enableHub(hub)) as { url: string; fingerprint: string };
    const secret = JSON.parse(Buffer.from((await invite(hub, { name: "flood" })).slice(5), "base64url").toString()).secret as string;
    const facts = { hostname: "flood", platform: "linux", release: "1", arch: "x64", cpus: 1, totalMemoryBytes: 1, agentVersion: "0.0.0" };
    const { WebSocket } = await import("ws");
    const { pinnedTlsConnect } = await import("../../src/platform/tls-pin.js");
    const ws = new WebSocket(url, { createConnection: (opts: object) => pinnedTlsConnect({ ...opts, fingerprint }) } as never);
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on("open", () =>
      ws.send(
        JSON.stringify({ type: "hello", protocol: 1, client: { name: "flood", version: "0" }, link: { version: LINK_VERSION, join: { secret, facts } } }),
      ),
    );
    ws.on("message", (data) => {
      if (JSON.parse(data.toString()).t !== "linked") return;
      // Many times the burst allowance, as fast as the socket takes it: no real machine sends like this.
      for (let seq = 1; seq <= 6 * LINK_RATE.hub.framesBurst && ws.readyState === ws.OPEN; seq++) {
        ws.send(`{"t":"report","seq":${seq},"report":{"type":"worker.event","workerId":"w","event":{"type":"x","sessionId":null},"at":0}}`);
      }
    });
    const { code, reason } = await closed;
    expect(code).toBe(4429);
    expect(reason).toMatch(/faster than the hub's limit of \d+ frames or \d+ MiB per second/);
    await waitFor("the log line", () => readFileSync(statePaths(hub).log, "utf8").includes("closing a machine link that sends faster than its limit"));
    expect(await cliJson(hub, ["hub", "status"])).toMatchObject({ listening: true });
  });
});
