import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signInWithBrowser } from "../../src/auth/loopback.js";
import { api } from "../../src/protocol/api/index.js";
import type { FleetError } from "../../src/protocol/errors.js";
import { browserVisit, FakeOidc } from "../fixtures/fake-oidc.js";
import { cleanupHomes, cliJson, connect, connectAsOwner, connectWithSession, createHome, runCli, startCli } from "../helpers/daemon.js";

let home: string;
let fake: FakeOidc;

beforeAll(async () => {
  home = createHome();
  fake = await FakeOidc.start();
  // The secret goes in on stdin (`-`), as an admin would keep it out of shell history.
  const set = await runCli(home, ["admin", "google", "set", "--client-id", fake.clientId, "--client-secret", "-", "--issuer", fake.issuer, "--json"], {
    stdin: `${fake.clientSecret}\n`,
  });
  expect(set.code, set.stderr).toBe(0);
  expect(JSON.parse(set.stdout)).toMatchObject({ configured: true, enabled: true, clientSecretSet: true, issuer: fake.issuer });
});
afterAll(async () => {
  await cleanupHomes();
  await fake.close();
});

const AUTHORIZATION_URL = /http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+/;

/** `ocfleet login --google` with the test's browser following the authorization redirect. */
async function loginWithGoogle(env: NodeJS.ProcessEnv = {}) {
  const cli = startCli(home, ["login", "--google"], { env });
  const [url] = await cli.waitForOutput(AUTHORIZATION_URL);
  const visit = await browserVisit(url);
  return { ...(await cli.done), visit, url };
}

const whoami = () => cliJson(home, ["whoami"]);
const lastLine = (text: string) => text.trimEnd().split("\n").at(-1);

describe("Google sign-in through the browser loopback", () => {
  it("upgrades the anonymous owner: the redirect reaches the CLI, the daemon verifies the id_token, identity comes from `sub`", async () => {
    const before = await whoami();
    expect(before.user).toMatchObject({ isOwner: true, anonymous: true, level: "system_admin" });

    const login = await loginWithGoogle();
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain("upgraded your anonymous account, now Ada Lovelace");
    expect(login.visit.status).toBe(200);
    expect(login.visit.page).toContain("You can close this tab");

    // What went to the issuer: PKCE S256, a state and a nonce, and a redirect to a loopback listener.
    const authorize = new URL(login.url).searchParams;
    expect(authorize.get("code_challenge_method")).toBe("S256");
    expect(authorize.get("state")!.length).toBeGreaterThanOrEqual(32);
    expect(authorize.get("nonce")!.length).toBeGreaterThanOrEqual(32);
    expect(authorize.get("redirect_uri")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const exchange = fake.requests.filter((r) => r.path === "/token").at(-1)!;
    expect(exchange.status).toBe(200); // the fake checked the secret, the PKCE verifier and the redirect_uri

    const after = await whoami();
    expect(after.user).toMatchObject({ id: before.user.id, name: "Ada Lovelace", anonymous: false, email: "ada@example.com", level: "system_admin" });
    expect(after.identities).toEqual([expect.objectContaining({ provider: "google", email: "ada@example.com", emailVerified: true })]);
    expect(after.session.kind).toBe("google");
    // The listener is gone once the sign-in is over.
    await expect(fetch(login.visit.redirectedTo)).rejects.toThrow();
    const info = await cliJson(home, ["version"]);
    expect(info.daemon.running).toBe(true);
    const client = await connect(home);
    expect((await client.call(api.appinfo.get, {})).signInMethods).toEqual(["local", "anonymous", "code", "recovery", "google"]);
    client.close();
  });

  it("signs a signed-out client into the user the Google account is linked to, and creates a user for a new one", async () => {
    const owner = await whoami();
    const signIn = async () => {
      const browserSays: string[] = [];
      const connection = await connectWithSession(home);
      try {
        const flow = signInWithBrowser(connection, { say: (line) => browserSays.push(line) });
        const url = await waitForUrl(browserSays);
        await browserVisit(url);
        return await flow;
      } finally {
        connection.close();
      }
    };
    const again = await signIn();
    expect(again).toMatchObject({ outcome: "signed_in", user: { id: owner.user.id } });

    fake.person = { sub: "google-sub-2", email: "grace@example.com", emailVerified: true, name: "Grace Hopper" };
    const fresh = await signIn();
    expect(fresh).toMatchObject({ outcome: "created", user: { name: "Grace Hopper", level: "user", anonymous: false, email: "grace@example.com" } });
    expect(fresh.user.id).not.toBe(owner.user.id);
  });

  it("links Google to an anonymous account as an upgrade, and never puts one Google account on two users", async () => {
    const anonymous = await cliJson(home, ["login", "--anonymous"]);
    expect(anonymous.user.anonymous).toBe(true);

    fake.person = { sub: "google-sub-1", email: "ada@example.com", emailVerified: true, name: "Ada Lovelace" };
    const taken = await loginWithGoogle();
    expect(taken.code).toBe(1);
    expect(lastLine(taken.stderr)).toBe(
      "ocfleet: ada@example.com is already linked to another ocfleet user (Ada Lovelace); to use that account, sign out (ocfleet logout) and run ocfleet login --google",
    );
    const unchanged = await whoami();
    expect(unchanged.user).toMatchObject({ id: anonymous.user.id, anonymous: true });
    expect(unchanged.identities).toEqual([]);

    fake.person = { sub: "google-sub-3", email: "alan@example.com", emailVerified: true, name: "Alan Turing" };
    const upgrade = await loginWithGoogle();
    expect(upgrade.code, upgrade.stderr).toBe(0);
    const upgraded = await whoami();
    expect(upgraded.user).toMatchObject({ id: anonymous.user.id, name: "Alan Turing", anonymous: false, level: "user" });
    expect(upgraded.identities.map((i: { email: string }) => i.email)).toEqual(["alan@example.com"]);

    // Alan is a plain user: the admin list is not his to see.
    const users = await runCli(home, ["admin", "users"]);
    expect(users.code).toBe(1);
    expect(users.stderr).toContain("admin.users is for admins only");
  });

  const failures: Array<[string, () => void, RegExp]> = [
    ["a state that does not belong to the sign-in", () => (fake.forgedState = "attacker-chosen-state"), /state that does not belong to this sign-in/],
    ["an id_token with another nonce", () => (fake.tamper = "badNonce"), /does not carry this sign-in's nonce/],
    ["an id_token for another client (aud)", () => (fake.tamper = "wrongAudience"), /issued for another client/],
    ["an expired id_token", () => (fake.tamper = "expired"), /the id_token has expired/],
    ["an id_token signed by a key not in the JWKS (same key id)", () => (fake.tamper = "foreignKey"), /signature does not match the issuer's keys/],
    ["an id_token signed by a key the issuer does not publish", () => (fake.tamper = "unknownKey"), /signed with a key the issuer does not publish/],
    ["an id_token from another issuer", () => (fake.tamper = "wrongIssuer"), /was not issued by http:\/\/127\.0\.0\.1/],
    ["a replayed authorization code", () => (fake.replayCode = true), /Google refused the sign-in code: invalid_grant/],
  ];

  for (const [what, spoil, message] of failures) {
    it(`fails closed on ${what}, with a clear message`, async () => {
      const before = await whoami();
      spoil();
      const login = await loginWithGoogle();
      expect(login.code).toBe(1);
      expect(lastLine(login.stderr)).toMatch(/^ocfleet: /);
      expect(lastLine(login.stderr)).toMatch(message);
      expect(login.stdout).toBe("");
      expect(login.visit.status).toBe(400);
      expect(login.visit.page).toContain("Sign-in");
      const after = await whoami();
      expect(after.user.id).toBe(before.user.id);
      expect(after.session.id).toBe(before.session.id);
      expect(after.identities).toEqual(before.identities);
    });
  }

  it("uses each sign-in request once: a replayed callback is refused, and the daemon checks the state too", async () => {
    const client = await connectWithSession(home);
    try {
      const start = await client.call(api.auth.googleStart, { redirectUri: "http://127.0.0.1:9/callback" });
      const redirect = await fetch(start.authorizationUrl, { redirect: "manual" });
      const callback = new URL(redirect.headers.get("location")!);
      const args = { requestId: start.requestId, state: callback.searchParams.get("state")!, code: callback.searchParams.get("code")! };
      await client.call(api.auth.googleFinish, args);
      await expect(client.call(api.auth.googleFinish, args)).rejects.toMatchObject({
        code: "failed_precondition",
        message: expect.stringContaining("already used"),
      });

      const other = await client.call(api.auth.googleStart, { redirectUri: "http://127.0.0.1:9/callback" });
      await expect(client.call(api.auth.googleFinish, { requestId: other.requestId, state: "forged", code: "4/whatever" })).rejects.toMatchObject({
        code: "unauthenticated",
        message: expect.stringContaining("state does not match"),
      });
    } finally {
      client.close();
    }
  });

  it("never takes the person's identity from the client: a profile in the arguments is refused", async () => {
    const client = await connect(home);
    try {
      const start = await client.call(api.auth.googleStart, { redirectUri: "http://127.0.0.1:9/callback" });
      for (const field of ["profile", "email", "sub", "idToken"]) {
        const error = (await client
          .callMethod("auth.googleFinish", { requestId: start.requestId, state: start.state, code: "4/x", [field]: { email: "admin@example.com" } })
          .catch((e: FleetError) => e)) as FleetError;
        expect(error).toMatchObject({ code: "invalid_argument", data: { field } });
      }
      await expect(client.call(api.auth.googleStart, { redirectUri: "https://evil.example/callback" })).rejects.toMatchObject({
        code: "invalid_argument",
        data: { field: "redirectUri" },
      });
    } finally {
      client.close();
    }
  });

  it("times out cleanly when the browser never comes back", async () => {
    const cli = startCli(home, ["login", "--google"], { env: { OCFLEET_LOGIN_TIMEOUT_MS: "700" } });
    const [url] = await cli.waitForOutput(AUTHORIZATION_URL);
    const result = await cli.done;
    expect(result.code).toBe(1);
    expect(lastLine(result.stderr)).toBe("ocfleet: no answer from the browser within 1 s; nothing was signed in. Run ocfleet login --google again");
    // Too late: the listener is closed, so the code has nowhere to go.
    const redirect = await fetch(url, { redirect: "manual" });
    await expect(fetch(redirect.headers.get("location")!)).rejects.toThrow();
  });

  it("is refused while an admin has it turned off, and appinfo stops offering it", async () => {
    const owner = await connectAsOwner(home);
    try {
      await owner.call(api.admin.googleDisable, {});
      expect((await owner.call(api.appinfo.get, {})).signInMethods).not.toContain("google");
      const login = await runCli(home, ["login", "--google"]);
      expect(login.code).toBe(1);
      expect(login.stderr).toBe("ocfleet: Google sign-in is turned off on this hub; an admin can turn it on with: ocfleet admin google enable\n");
      await owner.call(api.admin.googleEnable, {});
    } finally {
      owner.close();
    }
  });
});

async function waitForUrl(lines: string[]): Promise<string> {
  for (let i = 0; i < 500; i++) {
    const match = lines.join("\n").match(AUTHORIZATION_URL);
    if (match) return match[0];
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no authorization URL in: ${lines.join("\n")}`);
}
