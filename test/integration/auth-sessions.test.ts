import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { api, type WhoAmI } from "../../src/protocol/api/index.js";
import type { FleetError } from "../../src/protocol/errors.js";
import { cleanupHomes, cliJson, connect, connectAsOwner, connectWithSession, createHome, runCli, waitFor } from "../helpers/daemon.js";

let home: string;

beforeAll(async () => {
  home = createHome();
  (await connect(home)).close();
});
afterAll(cleanupHomes);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A subscription's latest value and errors, for waiting on. */
function watch<T>(connection: FleetConnection, ref: Parameters<FleetConnection["subscribe"]>[0], args: object) {
  const seen: { values: T[]; errors: FleetError[] } = { values: [], errors: [] };
  connection.subscribe(ref as never, args as never, { onValue: (v) => seen.values.push(v as T), onError: (e) => seen.errors.push(e) });
  return seen;
}

async function anonymousUser(where = home) {
  const connection = await connectWithSession(where);
  const signIn = await connection.call(api.auth.loginAnonymous, {});
  return { connection, signIn };
}

describe("sessions", () => {
  it("a revoked session is refused on its open connections at their next call, and their live queries get unauthenticated at once", async () => {
    const admin = await connectAsOwner(home);
    const victim = await anonymousUser();
    const sameSession = await connectWithSession(home, victim.signIn.session.token);
    const first = watch(victim.connection, api.checklists.get, { key: "shared" });
    const second = watch(sameSession, api.checklists.get, { key: "shared" });
    await waitFor("both subscriptions' first values", () => first.values.length === 1 && second.values.length === 1);

    const outcome = await admin.call(api.serviceDesk.revokeSessions, { user: victim.signIn.user.id });
    expect(outcome.revoked).toBe(1);
    // Nothing else was written: the revocation alone reaches the subscribers.
    await waitFor("unauthenticated on both subscriptions", () => first.errors.length === 1 && second.errors.length === 1);
    for (const seen of [first, second]) {
      expect(seen.errors[0]).toMatchObject({
        code: "unauthenticated",
        message: "checklists.get needs a signed-in user: your session was revoked; sign in with: ocfleet login",
      });
    }
    await expect(victim.connection.call(api.checklists.list, {})).rejects.toMatchObject({ code: "unauthenticated", data: { sessionProblem: "revoked" } });
    await expect(sameSession.call(api.auth.whoami, {})).rejects.toMatchObject({ code: "unauthenticated" });
    expect((await victim.connection.call(api.appinfo.get, {})).version).toBeTruthy(); // public functions still answer

    // A new connection with the revoked token is not refused, but is not signed in either.
    const again = await connectWithSession(home, victim.signIn.session.token);
    expect(again.welcome.caller).toEqual({ kind: "local", user: null, session: null, sessionProblem: "revoked" });
    for (const c of [admin, victim.connection, sameSession, again]) c.close();
  });

  it("an open connection that subscribes to nothing sees, at its very next call, its level changed, its session revoked, and its user disabled", async () => {
    const admin = await connectAsOwner(home);
    const target = await anonymousUser();
    await expect(target.connection.call(api.admin.users, {})).rejects.toMatchObject({ code: "permission_denied" });
    await admin.call(api.admin.setUserLevel, { user: target.signIn.user.id, level: "system_admin" });
    expect((await target.connection.call(api.admin.users, {})).length).toBeGreaterThanOrEqual(2);

    // Its own demotion, with the next call sent before the answer: that call is already refused.
    const demotion = target.connection.call(api.admin.setUserLevel, { user: target.signIn.user.id, level: "user" });
    const next = target.connection.call(api.admin.users, {});
    expect(await demotion).toMatchObject({ level: "user" });
    await expect(next).rejects.toMatchObject({ code: "permission_denied" });

    // Only the session row changes here (the user stays enabled).
    const laptop = await connectWithSession(home);
    await laptop.call(api.auth.loginWithCode, { code: (await target.connection.call(api.auth.createLoginCode, {})).code });
    const laptopSession = (await laptop.call(api.auth.whoami, {})).session.id;
    await target.connection.call(api.auth.revokeSession, { sessionId: laptopSession });
    await expect(laptop.call(api.auth.whoami, {})).rejects.toMatchObject({ code: "unauthenticated", data: { sessionProblem: "revoked" } });

    await admin.call(api.admin.disableUser, { user: target.signIn.user.id, reason: "gone" });
    await expect(target.connection.call(api.checklists.list, {})).rejects.toMatchObject({ code: "unauthenticated", data: { sessionProblem: "revoked" } });
    for (const c of [admin, target.connection, laptop]) c.close();
  });

  it("lets a user revoke one of their own sessions, and reports anyone else's as not found", async () => {
    const user = await anonymousUser();
    const code = await user.connection.call(api.auth.createLoginCode, {});
    const laptop = await connectWithSession(home);
    const second = await laptop.call(api.auth.loginWithCode, { code: code.code });
    const sessions = await user.connection.call(api.auth.sessions, {});
    expect(sessions.map((s) => [s.id, s.current])).toEqual(
      expect.arrayContaining([
        [user.signIn.session.id, true],
        [second.session.id, false],
      ]),
    );
    expect(await user.connection.call(api.auth.revokeSession, { sessionId: second.session.id })).toEqual({ revoked: true, current: false });
    await expect(laptop.call(api.auth.whoami, {})).rejects.toMatchObject({ code: "unauthenticated" });

    const owner = await connectAsOwner(home);
    const ownerSession = (await owner.call(api.auth.whoami, {})).session.id;
    await expect(user.connection.call(api.auth.revokeSession, { sessionId: ownerSession })).rejects.toMatchObject({ code: "not_found" });
    expect((await owner.call(api.auth.whoami, {})).session.id).toBe(ownerSession);
    for (const c of [user.connection, laptop, owner]) c.close();
  });

  it("moves a connection's subscriptions with it when it signs out and in again, without leaking into the old session's subscribers", async () => {
    const a = await anonymousUser();
    const b = await anonymousUser();
    const alsoA = await connectWithSession(home, a.signIn.session.token);
    const onSwitching = watch<WhoAmI>(a.connection, api.auth.whoami, {});
    const onStaying = watch<WhoAmI>(alsoA, api.auth.whoami, {});
    await waitFor("first values", () => onSwitching.values.length === 1 && onStaying.values.length === 1);

    // The switching connection becomes b (a code from b), which revokes a's session for it… and for alsoA.
    const code = await b.connection.call(api.auth.createLoginCode, {});
    await a.connection.call(api.auth.loginWithCode, { code: code.code });
    await waitFor("the switching connection to see b", () => onSwitching.values.at(-1)?.user.id === b.signIn.user.id);
    await waitFor("the staying connection to be refused", () => onStaying.errors.length === 1);
    expect(onStaying.values.every((v) => v.user.id === a.signIn.user.id)).toBe(true);
    expect(onStaying.errors[0]).toMatchObject({ code: "unauthenticated" });

    // Signing out leaves the subscription open with an error; signing in again brings values back.
    await a.connection.call(api.auth.logout, {});
    await waitFor("an error after logout", () => onSwitching.errors.length === 1);
    await a.connection.call(api.auth.loginWithRecoveryCode, { code: a.signIn.recoveryCode! });
    await waitFor("a value after signing in again", () => onSwitching.values.at(-1)?.user.id === a.signIn.user.id);
    for (const c of [a.connection, b.connection, alsoA]) c.close();
  });

  it("a hello with a session the daemon does not know is not refused: the caller is just not signed in", async () => {
    const stranger = await connectWithSession(home, "not-a-real-session-token");
    expect(stranger.welcome.caller).toEqual({ kind: "local", user: null, session: null, sessionProblem: "unknown" });
    await expect(stranger.call(api.checklists.list, {})).rejects.toMatchObject({
      code: "unauthenticated",
      message: "checklists.list needs a signed-in user: your session is not known to this daemon; sign in with: ocfleet login",
    });
    const owner = await stranger.call(api.auth.signInAsOwner, {});
    expect(owner.user.isOwner).toBe(true);
    expect(await stranger.call(api.checklists.list, {})).toEqual(expect.any(Array));
    stranger.close();
  });

  it("stores session tokens only as keyed digests", async () => {
    const user = await anonymousUser();
    const bytes = ["state.db", "state.db-wal"].map((file) => readFileSync(join(home, file)).toString("latin1")).join("");
    expect(bytes).toContain(user.signIn.session.id);
    expect(bytes).not.toContain(user.signIn.session.token);
    user.connection.close();
  });

  it("from the CLI: auth sessions lists them, auth revoke ends one, logout --all ends every one", async () => {
    const owner = await cliJson(home, ["whoami"]);
    const other = await connectAsOwner(home);
    const sessions = await cliJson(home, ["auth", "sessions"]);
    expect(sessions.filter((s: { current: boolean }) => s.current)).toEqual([expect.objectContaining({ id: owner.session.id })]);
    const otherId = (await other.call(api.auth.whoami, {})).session.id;
    expect(sessions.map((s: { id: string }) => s.id)).toContain(otherId);

    const revoked = await runCli(home, ["auth", "revoke", otherId]);
    expect(revoked.stdout).toBe(`revoked ${otherId}\n`);
    await expect(other.call(api.auth.whoami, {})).rejects.toMatchObject({ code: "unauthenticated" });
    const bad = await runCli(home, ["auth", "revoke", "nonsense"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("ocfleet: <session> must be a session id (ses_…), not 'nonsense'\n");

    const third = await connectAsOwner(home);
    const out = await runCli(home, ["logout", "--all"]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(
      /^signed out \S+ everywhere \(\d+ sessions revoked\)\nThe next ocfleet command on this machine signs you in again as the machine's owner\.\n$/,
    );
    await expect(third.call(api.auth.whoami, {})).rejects.toMatchObject({ code: "unauthenticated" });
    // …and it does: a new owner session, without anyone typing anything.
    const next = await cliJson(home, ["whoami"]);
    expect(next.user.id).toBe(owner.user.id);
    expect(next.session.id).not.toBe(owner.session.id);
    other.close();
    third.close();
  });
});

describe("session expiry", () => {
  const TTL_MS = 2000;

  it("slides with use, expires when idle, and then the next local command signs in as the owner again, saying why", async () => {
    process.env.OCFLEET_SESSION_TTL_MS = String(TTL_MS);
    const own = createHome();
    const client = await connect(own);
    delete process.env.OCFLEET_SESSION_TTL_MS;
    const first = await client.call(api.auth.whoami, {});

    // Used every 200 ms for longer than its lifetime: still valid, and its expiry moved forward.
    const until = Date.now() + TTL_MS * 1.5;
    while (Date.now() < until) {
      await client.call(api.checklists.list, {});
      await sleep(200);
    }
    const used = await client.call(api.auth.whoami, {});
    expect(used.session.id).toBe(first.session.id);
    expect(used.session.expiresAt).toBeGreaterThan(first.session.expiresAt);

    await sleep(TTL_MS + 300);
    await expect(client.call(api.checklists.list, {})).rejects.toMatchObject({
      code: "unauthenticated",
      message: "checklists.list needs a signed-in user: your session has expired; sign in with: ocfleet login",
    });
    const stale = await connectWithSession(own, readSavedToken(own));
    expect(stale.welcome.caller.sessionProblem).toBe("expired");
    stale.close();

    const cli = await runCli(own, ["whoami", "--json"]);
    expect(cli.code).toBe(0);
    expect(cli.stderr).toBe(`ocfleet: your saved session was expired; signed in as this machine's owner, ${first.user.name}\n`);
    expect(JSON.parse(cli.stdout).user.id).toBe(first.user.id);
    client.close();
  });
});

function readSavedToken(where: string): string {
  const file = JSON.parse(readFileSync(join(where, "credentials.json"), "utf8")) as { hubs: Record<string, { token: string }> };
  return Object.values(file.hubs)[0]!.token;
}
