import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../../src/protocol/api/index.js";
import { FakeOidc, GOOGLE_DEVICE_STATUS } from "../fixtures/fake-oidc.js";
import { cleanupHomes, cliJson, connectWithSession, createHome, runCli, startCli } from "../helpers/daemon.js";

/** The daemon adds this to the polling interval on slow_down (RFC 8628 says 5 s; tests can't wait that long). */
const SLOW_DOWN_STEP_MS = 300;
/** What the fake asks for between polls, in seconds. */
const INTERVAL_S = 0.1;

let home: string;
let fake: FakeOidc;

beforeAll(async () => {
  // Read by the daemon this file starts (its environment is this process's).
  process.env.OCFLEET_DEVICE_SLOWDOWN_STEP_MS = String(SLOW_DOWN_STEP_MS);
  home = createHome();
  fake = await FakeOidc.start();
  fake.deviceInterval = INTERVAL_S;
  await cliJson(home, ["admin", "google", "set", "--client-id", fake.clientId, "--client-secret", fake.clientSecret, "--issuer", fake.issuer]);
});
afterAll(async () => {
  await cleanupHomes();
  await fake.close();
});

const lastLine = (text: string) => text.trimEnd().split("\n").at(-1);

describe("Google sign-in with the device flow (ocfleet login --google --device)", () => {
  it("shows Google's verification_url and code, keeps polling through pending and slow_down (Google's 428 and 403), and signs in when approved", async () => {
    fake.deviceScript = ["pending", "pending", "slow_down", "pending", "approved"];
    const cli = startCli(home, ["login", "--google", "--device"]);
    const [, url, code] = await cli.waitForOutput(/open (http:\/\/127\.0\.0\.1:\d+\/device) on any device and enter the code:\s+(\S+)/);
    expect(url).toBe(`${fake.issuer}/device`);
    expect(code).toBe(fake.lastUserCode);
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("upgraded your anonymous account, now Ada Lovelace");
    expect(result.stderr).toContain("Google asked to check less often");

    const polls = fake.devicePolls;
    expect(polls.map((p) => p.status)).toEqual([
      GOOGLE_DEVICE_STATUS.pending,
      GOOGLE_DEVICE_STATUS.pending,
      GOOGLE_DEVICE_STATUS.slow_down,
      GOOGLE_DEVICE_STATUS.pending,
      200,
    ]);
    expect(polls.map((p) => p.status)).toEqual([428, 428, 403, 428, 200]);
    // The daemon keeps the pace: at least the interval between polls, and the interval plus the step after slow_down.
    const gaps = polls.slice(1).map((p, i) => p.at - polls[i]!.at);
    for (const gap of gaps.slice(0, 2)) expect(gap).toBeGreaterThanOrEqual(INTERVAL_S * 1000 - 5);
    for (const gap of gaps.slice(2)) expect(gap).toBeGreaterThanOrEqual(INTERVAL_S * 1000 + SLOW_DOWN_STEP_MS - 5);

    const me = await cliJson(home, ["whoami"]);
    expect(me.identities).toEqual([expect.objectContaining({ provider: "google", email: "ada@example.com" })]);
    expect(me.session.kind).toBe("google");
  });

  it("accepts the RFC's verification_uri as well", async () => {
    fake.rfcDeviceFields = true;
    fake.deviceScript = ["approved"];
    const result = await runCli(home, ["login", "--google", "--device", "--json"]);
    fake.rfcDeviceFields = false;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`open ${fake.issuer}/device on any device`);
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: "signed_in", user: { name: "Ada Lovelace" } });
  });

  it("stops with a clear message when the device code expires before approval", async () => {
    const before = await cliJson(home, ["whoami"]);
    fake.deviceScript = ["pending", "expired"];
    const result = await runCli(home, ["login", "--google", "--device"]);
    expect(result.code).toBe(1);
    expect(lastLine(result.stderr)).toBe("ocfleet: the device code expired before it was approved; run ocfleet login --google --device again");
    expect(fake.devicePolls.at(-1)!.status).toBe(400);
    expect((await cliJson(home, ["whoami"])).session.id).toBe(before.session.id);
  });

  it("stops when the person declines in the browser", async () => {
    fake.deviceScript = ["denied"];
    const result = await runCli(home, ["login", "--google", "--device"]);
    expect(result.code).toBe(1);
    expect(lastLine(result.stderr)).toBe("ocfleet: the sign-in was declined in the browser; nothing was signed in");
  });

  it("does not let a client poll Google faster than allowed, nor poll someone else's request", async () => {
    fake.deviceScript = ["pending", "pending", "pending"];
    const client = await connectWithSession(home);
    const stranger = await connectWithSession(home);
    try {
      await stranger.call(api.auth.loginAnonymous, {});
      const start = await client.call(api.auth.googleDeviceStart, {});
      const pollsBefore = fake.devicePolls.length;
      // Asked at once, before the interval is up: the daemon answers itself, Google is not asked.
      const early = await client.call(api.auth.googleDevicePoll, { requestId: start.requestId });
      expect(early).toMatchObject({ status: "pending", slowedDown: false });
      expect(fake.devicePolls.length).toBe(pollsBefore);
      await new Promise((resolve) => setTimeout(resolve, INTERVAL_S * 1000 + 20));
      await client.call(api.auth.googleDevicePoll, { requestId: start.requestId });
      expect(fake.devicePolls.length).toBe(pollsBefore + 1);
      await expect(stranger.call(api.auth.googleDevicePoll, { requestId: start.requestId })).rejects.toMatchObject({ code: "permission_denied" });
    } finally {
      client.close();
      stranger.close();
    }
  });
});
