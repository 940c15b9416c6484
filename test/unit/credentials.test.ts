import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { localHubKey, openCredentialStore } from "../../src/auth/credentials.js";

const dirs: string[] = [];
const servers: Server[] = [];
function tempHome(): string {
  const dir = mkdtempSync(join(tmpdir(), "ocf-cred-"));
  dirs.push(dir);
  return join(dir, "state"); // not created yet: the store creates it, privately
}
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const mode = (path: string) => statSync(path).mode & 0o777;
const credential = { sessionId: "ses_0000000000000000", token: "a-bearer-token", userName: "ada", savedAt: 1 };

/** A D-Bus session bus that accepts connections and never answers: the keychain call hangs. */
async function silentBus(dir: string): Promise<string> {
  const path = join(dir, "bus.sock");
  const server = createServer((socket) => socket.on("data", () => {}));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return `unix:path=${path}`;
}

describe("the credential store", () => {
  it("falls back to a file that is created with mode 0600, in a 0700 directory, keyed per hub", async () => {
    const home = tempHome();
    const store = await openCredentialStore(home, { env: { OCFLEET_CREDENTIALS: "file" } });
    expect(store.backend).toBe("file");
    expect(await store.get(localHubKey(home))).toBeNull();
    await store.set(localHubKey(home), credential);
    await store.set("wss://hub.example.com", { ...credential, token: "other" });
    const file = join(home, "credentials.json");
    expect(mode(file)).toBe(0o600);
    expect(mode(home)).toBe(0o700);
    expect(await store.get(localHubKey(home))).toEqual(credential);
    expect((await store.get("wss://hub.example.com"))!.token).toBe("other");
    expect(await store.delete(localHubKey(home))).toBe(true);
    expect(await store.delete(localHubKey(home))).toBe(false);
    expect(await store.get(localHubKey(home))).toBeNull();
    expect(Object.keys(JSON.parse(readFileSync(file, "utf8")).hubs)).toEqual(["wss://hub.example.com"]);
  });

  it("makes a file that others can read private again before using it", async () => {
    const home = tempHome();
    const store = await openCredentialStore(home, { env: { OCFLEET_CREDENTIALS: "file" } });
    await store.set("hub", credential);
    chmodSync(join(home, "credentials.json"), 0o644);
    expect((await store.get("hub"))!.token).toBe(credential.token);
    expect(mode(join(home, "credentials.json"))).toBe(0o600);
  });

  it("probes the keychain with a timeout when D-Bus hangs, falls back to the file with one plain warning, and remembers", async () => {
    const home = tempHome();
    const env = {
      ...process.env,
      OCFLEET_CREDENTIALS: undefined,
      DBUS_SESSION_BUS_ADDRESS: await silentBus(join(home, "..")),
      OCFLEET_KEYRING_PROBE_TIMEOUT_MS: "1000",
    };
    const notices: string[] = [];
    const started = Date.now();
    const store = await openCredentialStore(home, { env, onNotice: (m) => notices.push(m) });
    const took = Date.now() - started;
    expect(store.backend).toBe("file");
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(5000);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toBe(
      `no usable OS keychain (the keychain did not answer within 1 s); your sign-in is kept in plain text in ${join(home, "credentials.json")}, ` +
        "readable only by you. Set OCFLEET_CREDENTIALS=file to choose this and silence this note.",
    );
    const cache = JSON.parse(readFileSync(join(home, "credential-store.json"), "utf8"));
    expect(cache).toMatchObject({ backend: "file", reason: "the keychain did not answer within 1 s" });
    expect(mode(join(home, "credential-store.json"))).toBe(0o600);

    // The next command does not pay for the probe again, and is not warned again.
    const again = Date.now();
    const second = await openCredentialStore(home, { env, onNotice: (m) => notices.push(m) });
    expect(second.backend).toBe("file");
    expect(Date.now() - again).toBeLessThan(500);
    expect(notices).toHaveLength(1);
  });

  it("falls back at once where there is no session bus at all (headless Linux, CI)", async () => {
    const home = tempHome();
    const env = { ...process.env, OCFLEET_CREDENTIALS: undefined, DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/bus", DISPLAY: undefined };
    const notices: string[] = [];
    const store = await openCredentialStore(home, { env, onNotice: (m) => notices.push(m) });
    expect(store.backend).toBe("file");
    expect(notices[0]).toMatch(/^no usable OS keychain \(.+\); your sign-in is kept in plain text in /);
    expect(existsSync(join(home, "credentials.json"))).toBe(false); // created only when something is saved
  });

  it.runIf(process.platform === "linux")("turns a forced keychain that does not work into one line that says what to do", async () => {
    const saved = process.env.DBUS_SESSION_BUS_ADDRESS;
    process.env.DBUS_SESSION_BUS_ADDRESS = "unix:path=/nonexistent/bus"; // read by the native module in this process
    try {
      const store = await openCredentialStore(tempHome(), { env: { OCFLEET_CREDENTIALS: "keyring" } });
      expect(store.backend).toBe("keyring");
      await expect(store.get("hub")).rejects.toThrow(
        "the OS keychain failed to read (no Secret Service reachable on the D-Bus session bus); set OCFLEET_CREDENTIALS=file to use a file instead",
      );
    } finally {
      if (saved === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
      else process.env.DBUS_SESSION_BUS_ADDRESS = saved;
    }
  });

  it("refuses an OCFLEET_CREDENTIALS value it does not know", async () => {
    await expect(openCredentialStore(tempHome(), { env: { OCFLEET_CREDENTIALS: "vault" } })).rejects.toThrow(
      "OCFLEET_CREDENTIALS must be 'file' or 'keyring', not 'vault'",
    );
  });
});
