// Cleanup jobs in a real daemon, on a short interval: they delete what expired and say so in
// `ocfleet admin jobs`. (Stream chunks need a real reply: test/e2e/schedules.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { api, type JobStatusView } from "../../src/protocol/api/index.js";
import { FakeOidc } from "../fixtures/fake-oidc.js";
import { cleanupHomes, cliJson, connectAsOwner, connectWithSession, createHome, runCli } from "../helpers/daemon.js";

const DAEMON_ENV = {
  OCFLEET_CLEANUP_EVERY_MS: "300",
  OCFLEET_SESSION_CLEANUP_GRACE_MS: "1",
  OCFLEET_LOGIN_CODE_TTL_MS: "50",
  OCFLEET_LOGIN_REQUEST_TTL_MS: "50",
};

let home: string;
let fake: FakeOidc;
let admin: FleetConnection;

beforeAll(async () => {
  home = createHome();
  fake = await FakeOidc.start();
  const started = await runCli(home, ["daemon", "start", "--json"], { env: DAEMON_ENV });
  expect(started.code, started.stderr).toBe(0);
  admin = await connectAsOwner(home);
});
afterAll(async () => {
  admin?.close();
  await cleanupHomes();
  await fake.close();
});

async function jobsWhen(done: (jobs: Map<string, JobStatusView>) => boolean): Promise<Map<string, JobStatusView>> {
  let jobs = new Map<string, JobStatusView>();
  const deadline = Date.now() + 15_000;
  for (;;) {
    jobs = new Map((await admin.call(api.admin.jobs, {})).map((j) => [j.job, j]));
    if (done(jobs)) return jobs;
    if (Date.now() > deadline) throw new Error(`cleanup jobs never got there: ${JSON.stringify([...jobs.values()])}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("cleanup jobs", () => {
  it("delete expired login codes, login requests and machine invites, and sessions revoked longer ago than the grace period; admin jobs shows what they removed", async () => {
    // A plain user: a login code they never use, and a session they end.
    const plain = await connectWithSession(home);
    const signedIn = await plain.call(api.auth.loginAnonymous, {});
    await plain.call(api.auth.createLoginCode, {});
    await expect(plain.call(api.admin.jobs, {})).rejects.toMatchObject({
      code: "permission_denied",
      message: expect.stringContaining("admin.jobs is for admins only"),
    });
    await plain.call(api.auth.logout, {});
    plain.close();
    // A Google sign-in that is started and never finished.
    await admin.call(api.admin.googleSet, { clientId: fake.clientId, clientSecret: fake.clientSecret, issuer: fake.issuer });
    const anonymous = await connectWithSession(home);
    await anonymous.call(api.auth.googleStart, { redirectUri: "http://127.0.0.1:9/callback" });
    anonymous.close();
    // An invite to join the hub that nobody uses before it expires.
    await admin.call(api.hub.enable, { listen: "127.0.0.1:0" });
    await admin.call(api.hub.invite, { ttlMs: 1000 });

    const jobs = await jobsWhen((all) =>
      ["login-codes", "login-requests", "sessions", "machine-invites"].every((job) => (all.get(job)?.removedRecently ?? 0) >= 1),
    );
    expect([...jobs.keys()]).toEqual(["login-requests", "login-codes", "machine-invites", "sessions", "stream-chunks", "schedule-runs"]);
    for (const job of jobs.values()) {
      expect(job.everyMs).toBe(300);
      expect(job.lastRun).toMatchObject({ error: null, startedAt: expect.any(Number) });
      expect(job.lastRun!.finishedAt).toBeGreaterThanOrEqual(job.lastRun!.startedAt);
    }
    // The revoked session is gone: its token is now unknown rather than revoked.
    const again = await connectWithSession(home, signedIn.session.token);
    expect(again.welcome.caller).toMatchObject({ user: null, sessionProblem: "unknown" });
    again.close();
    // The admin's own session, in use, was not touched.
    expect((await admin.call(api.auth.whoami, {})).user.level).toBe("system_admin");

    const table = await runCli(home, ["admin", "jobs"]);
    expect(table.stdout).toMatch(/^JOB\s+EVERY\s+LAST RUN\s+REMOVED\s+OUTCOME\s+WHAT IT DELETES\n/);
    expect(table.stdout).toMatch(/sessions\s+300ms\s+.*\s+ok\s+sessions that expired or were revoked/);
    expect((await cliJson(home, ["admin", "jobs"])).map((j: JobStatusView) => j.job)).toContain("stream-chunks");
  });
});
