// The schedule runner against a real database with the real migrations and the real send path,
// driven by an injected clock: no sleeping. No worker is linked, so every fired prompt is recorded
// in its chat and then fails to reach the worker; when runs fire is what these tests are about.
// (test/e2e/schedules.test.ts sends to a real OpenCode.)
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, type ScheduleRunView, type ScheduleView } from "../../src/protocol/api/index.js";
import { createTestHub, type TestHub } from "../helpers/hub.js";

const at = (iso: string) => Date.parse(iso);
let hub: TestHub;
let owner: ReturnType<TestHub["user"]>;

beforeEach(() => {
  hub = createTestHub(at("2026-01-05T07:00:00Z")); // a Monday
  owner = hub.user("olga");
  hub.worker("api");
});
afterEach(() => hub.close());

async function tickAt(iso: string) {
  hub.clock.now = at(iso);
  return hub.jobs.runner.tick();
}

const runs = (schedule: string) => hub.call(owner, api.schedules.runs, { schedule, limit: 1000 });
const brief = (list: ScheduleRunView[]) => list.map((r) => [new Date(r.scheduledFor).toISOString(), r.status]);

describe("the schedule runner", () => {
  it("fires at the right minute in the schedule's time zone, once, and sends the prompt into the schedule's own chat", async () => {
    const schedule = await hub.call(owner, api.schedules.add, {
      worker: "api",
      cron: "30 9 * * 1-5",
      timezone: "Europe/Berlin",
      prompt: "summarize open PRs",
      name: "prs",
    });
    expect(new Date(schedule.nextRunAt!).toISOString()).toBe("2026-01-05T08:30:00.000Z"); // 09:30 in Berlin
    expect(schedule.chatTitle).toBe("prs");

    expect(await tickAt("2026-01-05T08:29:59.900Z")).toEqual({ fired: 0, missed: 0 });
    expect(await runs("prs")).toEqual([]);

    expect(await tickAt("2026-01-05T08:30:00.250Z")).toEqual({ fired: 1, missed: 0 });
    expect(await tickAt("2026-01-05T08:30:00.900Z")).toEqual({ fired: 0, missed: 0 }); // never twice
    const [run] = await runs("prs");
    expect(run).toMatchObject({
      scheduledFor: at("2026-01-05T08:30:00Z"),
      recordedAt: at("2026-01-05T08:30:00.250Z"),
      chatId: schedule.chatId,
      status: "failed",
    });
    expect(run!.reason).toMatch(/^could not send: machine '.+' is offline \(not connected to the hub\), so nothing was sent to it; try again once it is back/);
    // The prompt went the way chat.send sends: recorded in the chat, as the schedule's owner.
    const messages = await hub.call(owner, api.chat.messages, { chat: schedule.chatId });
    expect(messages.find((m) => m.id === run!.messageId)).toMatchObject({ role: "user", parts: [{ kind: "text", text: "summarize open PRs" }] });

    const after = await hub.call(owner, api.schedules.get, { schedule: "prs" });
    expect(new Date(after.nextRunAt!).toISOString()).toBe("2026-01-06T08:30:00.000Z");
    expect(after.lastRun).toMatchObject({ status: "failed", scheduledFor: at("2026-01-05T08:30:00Z") });

    // Friday fires; the weekend does not.
    hub.db.prepare("UPDATE schedules SET next_run_at = ?").run(at("2026-01-09T08:30:00Z"));
    expect(await tickAt("2026-01-09T08:30:00.100Z")).toEqual({ fired: 1, missed: 0 });
    expect(await tickAt("2026-01-10T08:30:00.100Z")).toEqual({ fired: 0, missed: 0 });
    expect(new Date((await hub.call(owner, api.schedules.get, { schedule: "prs" })).nextRunAt!).toISOString()).toBe("2026-01-12T08:30:00.000Z");
  });

  it("does not fire a paused schedule, and does not count the times it slept through as missed", async () => {
    await hub.call(owner, api.schedules.add, { worker: "api", cron: "*/5 * * * *", timezone: "UTC", prompt: "ping", name: "ping" });
    const paused = await hub.call(owner, api.schedules.pause, { schedule: "ping" });
    expect(paused).toMatchObject({ paused: true, nextRunAt: null });
    expect(await tickAt("2026-01-05T07:05:00.100Z")).toEqual({ fired: 0, missed: 0 });
    expect(await tickAt("2026-01-05T08:00:00.100Z")).toEqual({ fired: 0, missed: 0 });

    hub.clock.now = at("2026-01-05T08:01:30Z");
    const resumed = await hub.call(owner, api.schedules.resume, { schedule: "ping" });
    expect(new Date(resumed.nextRunAt!).toISOString()).toBe("2026-01-05T08:05:00.000Z");
    expect(await tickAt("2026-01-05T08:05:00.050Z")).toEqual({ fired: 1, missed: 0 });
    expect(brief(await runs("ping"))).toEqual([["2026-01-05T08:05:00.000Z", "failed"]]);
  });

  it("records runs missed while the daemon was down as missed, never fires them late, and fires the next one on time", async () => {
    await hub.call(owner, api.schedules.add, { worker: "api", cron: "0 * * * *", timezone: "UTC", prompt: "hourly", name: "hourly" });
    expect(await tickAt("2026-01-05T08:00:00.100Z")).toEqual({ fired: 1, missed: 0 });

    // The daemon stops at 08:20 and starts again at 11:20: a new start recovers, then ticks.
    hub.clock.now = at("2026-01-05T11:20:00Z");
    expect(hub.jobs.runner.recover()).toBe(0);
    expect(await tickAt("2026-01-05T11:20:00Z")).toEqual({ fired: 0, missed: 3 });
    const list = await runs("hourly");
    expect(brief(list)).toEqual([
      ["2026-01-05T11:00:00.000Z", "missed"],
      ["2026-01-05T10:00:00.000Z", "missed"],
      ["2026-01-05T09:00:00.000Z", "missed"],
      ["2026-01-05T08:00:00.000Z", "failed"],
    ]);
    expect(list[0]!.reason).toBe("the daemon was not running at this time (or the machine was asleep); missed runs are not sent late");
    expect(list[0]).toMatchObject({ messageId: null, recordedAt: at("2026-01-05T11:20:00Z") });
    // Nothing was sent for them.
    const chatId = (await hub.call(owner, api.schedules.get, { schedule: "hourly" })).chatId;
    expect((await hub.call(owner, api.chat.messages, { chat: chatId })).filter((m) => m.role === "user")).toHaveLength(1);

    expect(await tickAt("2026-01-05T12:00:00.020Z")).toEqual({ fired: 1, missed: 0 });
    expect(brief(await runs("hourly"))[0]).toEqual(["2026-01-05T12:00:00.000Z", "failed"]);
  });

  it("still fires a run found less than a minute late (a start or a wake-up just after its time)", async () => {
    await hub.call(owner, api.schedules.add, { worker: "api", cron: "0 8 * * *", timezone: "UTC", prompt: "morning", name: "morning" });
    expect(await tickAt("2026-01-05T08:00:45Z")).toEqual({ fired: 1, missed: 0 });
    expect(brief(await runs("morning"))).toEqual([["2026-01-05T08:00:00.000Z", "failed"]]);
  });

  it("caps the missed runs one gap records at ten, and says on the oldest how many more there were", async () => {
    await hub.call(owner, api.schedules.add, { worker: "api", cron: "* * * * *", timezone: "UTC", prompt: "tick", name: "minutely" });
    // Next run 07:01; back at 10:01:30, three hours on: 10:01 fires (30 s late), 180 earlier were missed.
    expect(await tickAt("2026-01-05T10:01:30Z")).toEqual({ fired: 1, missed: 10 });
    const list = await runs("minutely");
    expect(list).toHaveLength(11);
    expect(brief(list).slice(0, 2)).toEqual([
      ["2026-01-05T10:01:00.000Z", "failed"],
      ["2026-01-05T10:00:00.000Z", "missed"],
    ]);
    expect(brief(list).at(-1)).toEqual(["2026-01-05T09:51:00.000Z", "missed"]);
    expect(list.at(-1)!.reason).toMatch(/; 170 earlier missed runs since 2026-01-05T07:01:00\.000Z are not listed one by one$/);
  });

  it("closes runs a stop left open, and the cleanup job keeps only each schedule's newest runs", async () => {
    hub.close();
    hub = createTestHub(at("2026-01-05T07:00:00Z"), { cleanup: { scheduleRunsKept: 4 } });
    owner = hub.user("olga");
    hub.worker("api");
    await hub.call(owner, api.schedules.add, { worker: "api", cron: "* * * * *", timezone: "UTC", prompt: "tick", name: "minutely" });
    await tickAt("2026-01-05T07:10:20Z"); // 07:10 fired, 07:01–07:09 missed
    expect(await runs("minutely")).toHaveLength(10);
    // As if the daemon had died while the 07:10 run's reply was streaming.
    hub.db.prepare("UPDATE schedule_runs SET status = 'sent', reason = NULL WHERE scheduled_for = ?").run(at("2026-01-05T07:10:00Z"));
    expect(hub.jobs.runner.recover()).toBe(1);
    expect((await runs("minutely"))[0]).toMatchObject({ status: "failed", reason: "the daemon stopped before the reply finished" });

    await hub.jobs.runCleanup();
    expect(brief(await runs("minutely"))).toEqual([
      ["2026-01-05T07:10:00.000Z", "failed"],
      ["2026-01-05T07:09:00.000Z", "missed"],
      ["2026-01-05T07:08:00.000Z", "missed"],
      ["2026-01-05T07:07:00.000Z", "missed"],
    ]);
    const job = (await hub.call(hub.user("ada", "system_admin"), api.admin.jobs, {})).find((j) => j.job === "schedule-runs");
    expect(job).toMatchObject({ lastRun: { removed: 6, error: null }, removedRecently: 6 });
  });

  it("lets only the owner (or an admin) see and change a schedule", async () => {
    const other = hub.user("pete");
    const admin = hub.user("ada", "system_admin");
    await hub.call(owner, api.schedules.add, { worker: "api", cron: "0 9 * * *", timezone: "UTC", prompt: "mine", name: "mine" });
    await expect(hub.call(other, api.schedules.pause, { schedule: "mine" })).rejects.toMatchObject({
      code: "not_found",
      message: "no schedule 'mine' (see: ocfleet schedule list)",
    });
    await expect(hub.call(other, api.schedules.runs, { schedule: "mine" })).rejects.toMatchObject({ code: "not_found" });
    expect(await hub.call(other, api.schedules.list, { all: true })).toEqual([]);
    expect((await hub.call(admin, api.schedules.list, { all: true })).map((s: ScheduleView) => s.name)).toEqual(["mine"]);
    expect(await hub.call(admin, api.schedules.pause, { schedule: "mine" })).toMatchObject({ paused: true });
  });
});
