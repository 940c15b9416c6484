import { statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../../src/protocol/api/index.js";
import { FakeOidc } from "../fixtures/fake-oidc.js";
import { cleanupHomes, cliJson, connectWithSession, createHome, runCli, waitFor } from "../helpers/daemon.js";

let home: string;
let owner: { id: string; name: string };

beforeAll(async () => {
  home = createHome();
  owner = (await cliJson(home, ["whoami"])).user;
});
afterAll(cleanupHomes);

async function anonymousUser() {
  const connection = await connectWithSession(home);
  const { user } = await connection.call(api.auth.loginAnonymous, {});
  return { connection, user };
}

describe("ocfleet admin", () => {
  it("the first local command made the machine's owner an anonymous system_admin, without anyone typing anything", async () => {
    const users = await cliJson(home, ["admin", "users"]);
    expect(users).toEqual([expect.objectContaining({ id: owner.id, isOwner: true, anonymous: true, level: "system_admin", activeSessions: 1 })]);
    expect(owner.name).toMatch(/^[a-z]+-[a-z]+-\d+$/);
    const table = await runCli(home, ["admin", "users"]);
    expect(table.stdout).toMatch(new RegExp(`${owner.id}\\s+${owner.name}\\s+system_admin\\s+owner, anonymous`));
    // Its session token went to the credential store: here (OCFLEET_CREDENTIALS=file) a private file.
    expect(statSync(join(home, "credentials.json")).mode & 0o777).toBe(0o600);
  });

  it("changes access levels by id or name, refuses to demote the last admin, and audits each change", async () => {
    const { connection, user } = await anonymousUser();
    await expect(connection.call(api.admin.users, {})).rejects.toMatchObject({ code: "permission_denied" });

    const promoted = await cliJson(home, ["admin", "users", "set-level", user.name, "system_admin"]);
    expect(promoted).toMatchObject({ id: user.id, level: "system_admin" });
    // The change applies to the user's open connection at its next call.
    expect((await connection.call(api.admin.users, {})).length).toBeGreaterThanOrEqual(2);

    await cliJson(home, ["admin", "users", "set-level", user.id, "user"]);
    await expect(connection.call(api.admin.users, {})).rejects.toMatchObject({ code: "permission_denied" });

    const last = await runCli(home, ["admin", "users", "set-level", owner.id, "user"]);
    expect(last.code).toBe(1);
    expect(last.stderr).toBe(
      `ocfleet: ${owner.name} is the last admin; make someone else an admin first (ocfleet admin users set-level <user> system_admin)\n`,
    );
    const badLevel = await runCli(home, ["admin", "users", "set-level", user.id, "root"]);
    expect(badLevel.code).toBe(2);
    const nobody = await runCli(home, ["admin", "users", "set-level", "no-such-person", "user"]);
    expect(nobody.stderr).toBe("ocfleet: no user named 'no-such-person'; find one with: ocfleet admin desk find no-such-person\n");

    const audit = await cliJson(home, ["admin", "audit"]);
    expect(audit.slice(0, 2).map((e: { action: string; details: object }) => [e.action, e.details])).toEqual([
      ["admin.setUserLevel", { name: user.name, from: "system_admin", to: "user" }],
      ["admin.setUserLevel", { name: user.name, from: "user", to: "system_admin" }],
    ]);
    expect(audit[0]).toMatchObject({ actor: owner.name, actorId: owner.id, target: user.id });
    connection.close();
  });

  it("service desk: finds a user by name, email or id, and revokes their sessions, live, with an audit entry", async () => {
    const { connection, user } = await anonymousUser();
    const seen: string[] = [];
    connection.subscribe(api.checklists.list, {}, { onValue: () => seen.push("value"), onError: (e) => seen.push(e.code) });
    await waitFor("the first value", () => seen.length === 1);

    const byPart = await cliJson(home, ["admin", "desk", "find", user.name.split("-")[1]!]);
    expect(byPart.map((u: { id: string }) => u.id)).toContain(user.id);
    expect(await cliJson(home, ["admin", "desk", "find", user.id])).toEqual([expect.objectContaining({ id: user.id, name: user.name })]);
    expect(await cliJson(home, ["admin", "desk", "find", "%"])).toEqual([]); // LIKE wildcards are taken literally

    const revoked = await cliJson(home, ["admin", "desk", "revoke-sessions", user.name]);
    expect(revoked).toMatchObject({ user: { id: user.id }, revoked: 1 });
    await waitFor("the user's subscription to be refused", () => seen.at(-1) === "unauthenticated");

    const audit = await cliJson(home, ["admin", "audit", "--limit", "4"]);
    expect(audit.map((e: { action: string }) => e.action)).toEqual([
      "serviceDesk.revokeSessions",
      "serviceDesk.findUser",
      "serviceDesk.findUser",
      "serviceDesk.findUser",
    ]);
    expect(audit[0].details).toEqual({ name: user.name, revoked: 1 });
    connection.close();
  });

  it("sets up Google from an issuer's discovery document, shows it without the secret, and appinfo reports what really works", async () => {
    const fake = await FakeOidc.start();
    try {
      const before = await connectWithSession(home);
      expect((await before.call(api.appinfo.get, {})).signInMethods).toEqual(["local", "anonymous", "code", "recovery"]);
      before.close();
      expect(await cliJson(home, ["admin", "google", "show"])).toMatchObject({
        configured: false,
        enabled: false,
        clientSecretSet: false,
        issuer: "https://accounts.google.com",
      });

      const set = await cliJson(home, ["admin", "google", "set", "--client-id", fake.clientId, "--client-secret", fake.clientSecret, "--issuer", fake.issuer]);
      expect(set).toEqual({
        configured: true,
        enabled: true,
        clientId: fake.clientId,
        clientSecretSet: true,
        issuer: fake.issuer,
        endpoints: {
          authorization: `${fake.issuer}/authorize`,
          token: `${fake.issuer}/token`,
          deviceAuthorization: `${fake.issuer}/device/code`,
          jwks: `${fake.issuer}/jwks`,
        },
        updatedAt: expect.any(Number),
        updatedBy: owner.name,
      });
      const after = await connectWithSession(home);
      expect((await after.call(api.appinfo.get, {})).signInMethods).toContain("google");
      after.close();

      // Changing only the issuer keeps the secret; the audit says a secret was set, never what it is.
      expect(await cliJson(home, ["admin", "google", "set", "--client-id", fake.clientId, "--issuer", fake.issuer])).toMatchObject({ clientSecretSet: true });
      const audit = await cliJson(home, ["admin", "audit", "--limit", "2"]);
      expect(audit.map((e: { details: { clientSecretChanged: boolean } }) => e.details.clientSecretChanged)).toEqual([false, true]);

      const plainHttp = await runCli(home, ["admin", "google", "set", "--client-id", "x", "--issuer", "http://issuer.example.com"]);
      expect(plainHttp.stderr).toBe("ocfleet: issuer must be an https URL (http only on loopback), not 'http://issuer.example.com'\n");
      const nothingThere = await runCli(home, ["admin", "google", "set", "--client-id", "x", "--issuer", `${fake.issuer}/nope`]);
      expect(nothingThere.stderr).toMatch(/^ocfleet: cannot read http:\/\/127\.0\.0\.1:\d+\/nope\/\.well-known\/openid-configuration: HTTP 404\n$/);
    } finally {
      await fake.close();
    }
  });
});
