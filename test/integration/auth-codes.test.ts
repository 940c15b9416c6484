import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { api } from "../../src/protocol/api/index.js";
import type { FleetError } from "../../src/protocol/errors.js";
import { cleanupHomes, cliJson, connectAsOwner, connectWithSession, createHome, runCli } from "../helpers/daemon.js";

// Short penalties for this file's daemons, so nothing here sleeps for a minute. A short code
// lifetime only for the daemon of the expiry test: elsewhere a loaded machine could outlive it.
const LOGIN_CODE_TTL_MS = 1500;
const SLOWDOWN_MS = 150;
// A first lockout lasts a quarter of this (see accounts/limiter.ts).
const LOCKOUT_MS = 4000;

let home: string;

beforeAll(() => {
  process.env.OCFLEET_CODE_SLOWDOWN_MS = String(SLOWDOWN_MS);
  process.env.OCFLEET_CODE_LOCKOUT_MS = String(LOCKOUT_MS);
  home = createHome();
});
afterAll(cleanupHomes);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A connection signed in as a new anonymous user of its own. */
async function newAnonymousUser(where = home): Promise<{ connection: FleetConnection; userId: string; recoveryCode: string }> {
  const connection = await connectWithSession(where);
  const result = await connection.call(api.auth.loginAnonymous, {});
  return { connection, userId: result.user.id, recoveryCode: result.recoveryCode! };
}

async function attempt(connection: FleetConnection, code: string): Promise<{ ms: number; error?: FleetError; userId?: string }> {
  const started = Date.now();
  try {
    const result = await connection.call(api.auth.loginWithCode, { code });
    return { ms: Date.now() - started, userId: result.user.id };
  } catch (err) {
    return { ms: Date.now() - started, error: err as FleetError };
  }
}

/** Every byte the database holds on disk, WAL included. */
function databaseBytes(): string {
  return ["state.db", "state.db-wal"].map((file) => readFileSync(join(home, file)).toString("latin1")).join("");
}

describe("login codes (ocfleet auth code, ocfleet login --code)", () => {
  it("prints an 8-character code that signs another client in as the same user, once", async () => {
    const alice = await newAnonymousUser();
    const grant = await alice.connection.call(api.auth.createLoginCode, {});
    expect(grant.code).toMatch(/^[ABCDEFGHJKMNPQRSTVWXYZ2-9]{4}-[ABCDEFGHJKMNPQRSTVWXYZ2-9]{4}$/);
    expect(grant.expiresAt - Date.now()).toBeLessThanOrEqual(60_000); // a minute: long enough to type, short enough to leak little

    const other = await connectWithSession(home);
    // Typed sloppily: case and the dash do not matter.
    const signedIn = await other.call(api.auth.loginWithCode, { code: grant.code.replace("-", "").toLowerCase() });
    expect(signedIn).toMatchObject({ outcome: "signed_in", user: { id: alice.userId } });
    expect((await other.call(api.auth.whoami, {})).session.kind).toBe("code");

    const third = await connectWithSession(home);
    await expect(third.call(api.auth.loginWithCode, { code: grant.code })).rejects.toMatchObject({
      code: "not_found",
      message: "that login code is wrong, used or expired; get a new one with: ocfleet auth code",
    });
    // Codes are random and never stored as they are.
    const codes = await Promise.all(Array.from({ length: 5 }, () => alice.connection.call(api.auth.createLoginCode, {})));
    expect(new Set(codes.map((c) => c.code)).size).toBe(5);
    const bytes = databaseBytes();
    for (const { code } of [grant, ...codes]) {
      expect(bytes).not.toContain(code);
      expect(bytes).not.toContain(code.replace("-", ""));
    }
    for (const c of [alice.connection, other, third]) c.close();
  });

  it("expires after its lifetime", async () => {
    const shortLived = createHome();
    process.env.OCFLEET_LOGIN_CODE_TTL_MS = String(LOGIN_CODE_TTL_MS);
    const bob = await newAnonymousUser(shortLived).finally(() => delete process.env.OCFLEET_LOGIN_CODE_TTL_MS);
    const grant = await bob.connection.call(api.auth.createLoginCode, {});
    await sleep(LOGIN_CODE_TTL_MS + 100);
    const late = await connectWithSession(shortLived);
    await expect(late.call(api.auth.loginWithCode, { code: grant.code })).rejects.toMatchObject({ code: "not_found" });
    bob.connection.close();
    late.close();
  });

  it("works from the CLI: ocfleet auth code on one side, ocfleet login --code (from stdin) on the other", async () => {
    const owner = await cliJson(home, ["whoami"]);
    const grant = await cliJson(home, ["auth", "code"]);
    await cliJson(home, ["login", "--anonymous"]);
    const login = await runCli(home, ["login", "--code"], { stdin: `${grant.code}\n` });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(`signed in as ${owner.user.name}`);
    expect((await cliJson(home, ["whoami"])).user.id).toBe(owner.user.id);
  });
});

// All local connections come from 127.0.0.1, one source: each rate-limit test gets a daemon of its own.
describe("wrong codes", () => {
  it("are slowed down on a connection, then the connection is refused for a while, even with the right code", async () => {
    const own = createHome();
    const carol = await newAnonymousUser(own);
    const guesser = await connectWithSession(own);
    const free = [await attempt(guesser, "AAAA-AAAA"), await attempt(guesser, "AAAA-AAAB"), await attempt(guesser, "AAAA-AAAC")];
    for (const a of free) expect(a.error).toMatchObject({ code: "not_found" });
    const slowed = [await attempt(guesser, "AAAA-AAAD"), await attempt(guesser, "AAAA-AAAE"), await attempt(guesser, "AAAA-AAAF")];
    for (const a of slowed) expect(a.error).toMatchObject({ code: "not_found" });
    expect(slowed[0]!.ms).toBeGreaterThanOrEqual(SLOWDOWN_MS);
    expect(slowed[1]!.ms).toBeGreaterThanOrEqual(2 * SLOWDOWN_MS);
    expect(slowed[2]!.ms).toBeGreaterThanOrEqual(4 * SLOWDOWN_MS);

    const right = (await carol.connection.call(api.auth.createLoginCode, {})).code;
    const refused = await attempt(guesser, right);
    expect(refused.error).toMatchObject({ code: "rate_limited", message: expect.stringMatching(/^too many wrong codes; try again in \d+ s$/) });
    expect(refused.ms).toBeLessThan(SLOWDOWN_MS); // refused at once, without checking the code

    await sleep(LOCKOUT_MS / 4 + 100);
    // The first lockout is over (and the first code has expired meanwhile): a right code works again.
    const after = await attempt(guesser, (await carol.connection.call(api.auth.createLoginCode, {})).code);
    expect(after.userId).toBe(carol.userId);
    carol.connection.close();
    guesser.close();
  });

  it("are checked one at a time per connection: guesses cannot be pipelined past the limit", async () => {
    const guesser = await connectWithSession(createHome());
    // Three free failures first, so the next attempt is slowed and still in flight when the others arrive.
    for (const code of ["BBBB-BBBB", "BBBB-BBBC", "BBBB-BBBD"]) await attempt(guesser, code);
    const burst = await Promise.all(["BBBB-BBBE", "BBBB-BBBF", "BBBB-BBBG"].map((code) => attempt(guesser, code)));
    expect(burst.map((a) => a.error?.code)).toEqual(["not_found", "rate_limited", "rate_limited"]);
    expect(burst[1]!.error!.message).toBe("another code is still being checked on this connection; send one at a time");
    guesser.close();
  });

  it("are limited per source too, when spread over many connections", async () => {
    const own = createHome();
    const dave = await newAnonymousUser(own);
    const fresh = await connectWithSession(own);
    const code = (await dave.connection.call(api.auth.createLoginCode, {})).code;
    // Each connection stays under its own limit; together they reach the source's (4 × 6 failures).
    for (let failures = 0; failures < 24; ) {
      const connection = await connectWithSession(own);
      for (let i = 0; i < 3; i++, failures++) expect((await attempt(connection, `CCCC-${2222 + failures}`)).error?.code).toBe("not_found");
      connection.close();
    }
    expect((await attempt(fresh, code)).error).toMatchObject({ code: "rate_limited" });
    fresh.close();
    dave.connection.close();
  });

  it("hold a burst of guesses in parallel over many connections to the source's budget, and lock the rightful user out only briefly", async () => {
    const own = createHome();
    const frank = await newAnonymousUser(own);
    const guessers: FleetConnection[] = [];
    for (let batch = 0; batch < 6; batch++) guessers.push(...(await Promise.all(Array.from({ length: 50 }, () => connectWithSession(own)))));
    const right = (await frank.connection.call(api.auth.createLoginCode, {})).code;
    // 299 wrong guesses and, last, the right code, all at once from one source.
    const burst = await Promise.all(
      guessers.map((connection, i) => attempt(connection, i === guessers.length - 1 ? right : `DDDD-${String(2000 + i).slice(-4)}`)),
    );
    const checked = burst.filter((a) => a.error?.code === "not_found").length;
    expect(checked).toBeLessThanOrEqual(24); // sourceFactor 4 × (3 free + 3 slowed)
    expect(burst.filter((a) => a.error?.code === "rate_limited").length).toBeGreaterThanOrEqual(300 - 24);
    expect(burst.at(-1)!.userId).toBeUndefined(); // the burst did not get lucky
    // The source is locked out for a quarter of the full lockout, not the whole of it.
    const lockedAt = Date.now();
    let signedIn: string | undefined;
    while (signedIn === undefined) {
      const outcome = await attempt(guessers[0]!, (await frank.connection.call(api.auth.createLoginCode, {})).code);
      if (outcome.userId) signedIn = outcome.userId;
      else {
        expect(outcome.error?.code).toBe("rate_limited");
        await sleep(100);
      }
    }
    expect(signedIn).toBe(frank.userId);
    expect(Date.now() - lockedAt).toBeLessThan(LOCKOUT_MS);
    for (const c of [frank.connection, ...guessers]) c.close();
  });
});

describe("service-desk codes", () => {
  it("an admin issues a 10-minute code for a user, who signs in with it once; the audit log records it without the code", async () => {
    const erin = await newAnonymousUser();
    const admin = await connectAsOwner(home);
    const grant = await admin.call(api.serviceDesk.issueLoginCode, { user: erin.userId });
    expect(grant.user.id).toBe(erin.userId);
    expect(grant.expiresAt - Date.now()).toBeGreaterThan(9.9 * 60_000);
    expect(grant.expiresAt - Date.now()).toBeLessThanOrEqual(10 * 60_000);

    const helped = await connectWithSession(home);
    expect((await helped.call(api.auth.loginWithCode, { code: grant.code })).user.id).toBe(erin.userId);
    expect((await helped.call(api.auth.whoami, {})).session.kind).toBe("desk");
    await expect(connectWithSession(home).then((c) => c.call(api.auth.loginWithCode, { code: grant.code }))).rejects.toMatchObject({ code: "not_found" });

    const [entry] = await admin.call(api.admin.audit, { limit: 1 });
    expect(entry).toMatchObject({ action: "serviceDesk.issueLoginCode", target: erin.userId });
    expect(JSON.stringify(entry)).not.toContain(grant.code.replace("-", ""));
    expect(JSON.stringify(entry)).not.toContain(grant.code);
    for (const c of [erin.connection, admin, helped]) c.close();
  });
});

describe("recovery codes", () => {
  it("ocfleet login --anonymous shows a recovery code once; login --recovery signs back in; --regenerate voids the old one", async () => {
    const created = await runCli(home, ["login", "--anonymous"]);
    expect(created.code, created.stderr).toBe(0);
    const code = /recovery code, shown only this once: (\S+)/.exec(created.stdout)![1]!;
    expect(code).toMatch(/^([ABCDEFGHJKMNPQRSTVWXYZ2-9]{5}-){4}[ABCDEFGHJKMNPQRSTVWXYZ2-9]{5}$/);
    const me = await cliJson(home, ["whoami"]);
    expect(me.hasRecoveryCode).toBe(true);
    // Shown once: nothing reads it back, and the store has only a keyed digest.
    expect(JSON.stringify(me)).not.toContain(code);
    expect((await runCli(home, ["auth", "recovery-code"])).stdout).toContain("you have a recovery code (it is shown only when issued)");
    expect(databaseBytes()).not.toContain(code.replace(/-/g, ""));

    await runCli(home, ["logout"]);
    expect((await cliJson(home, ["whoami"])).user.isOwner).toBe(true);
    const back = await runCli(home, ["login", "--recovery", code]);
    expect(back.code, back.stderr).toBe(0);
    expect((await cliJson(home, ["whoami"])).user.id).toBe(me.user.id);
    expect((await cliJson(home, ["whoami"])).session.kind).toBe("recovery");

    const renewed = await cliJson(home, ["auth", "recovery-code", "--regenerate"]);
    expect(renewed.recoveryCode).not.toBe(code);
    const old = await runCli(home, ["login", "--recovery", code]);
    expect(old.code).toBe(1);
    expect(old.stderr).toBe("ocfleet: that recovery code is wrong or was replaced by a newer one\n");
    const fresh = await runCli(home, ["login", "--recovery"], { stdin: `${renewed.recoveryCode.toLowerCase()}\n` });
    expect(fresh.code, fresh.stderr).toBe(0);
    expect((await cliJson(home, ["whoami"])).user.id).toBe(me.user.id);
  });
});
