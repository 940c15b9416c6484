// Scheduled prompts end to end: the daemon's own timer, a real OpenCode worker and the fake model.
// Nothing about time is faked: each schedule runs every minute at a second a few seconds ahead,
// so its first run is due almost at once (see "Scheduled prompts" in docs/architecture.md).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobStatusView } from "../../src/protocol/api/index.js";
import type { FleetConnection } from "../../src/client/connection.js";
import { api, type MessageView, type ScheduleRunView, type ScheduleView } from "../../src/protocol/api/index.js";
import { cleanupHomes, cliJson, connect, createHome, runCli } from "../helpers/daemon.js";
import { untilLive } from "../helpers/live.js";
import { addSandboxWorker, createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";

let home: string;
let sandbox: OpencodeSandbox;
let client: FleetConnection;

/** Cleanup every half second, keeping no stream chunks of finished replies. */
const DAEMON_ENV = { OCFLEET_CLEANUP_EVERY_MS: "500", OCFLEET_STREAM_CHUNK_RETENTION_MS: "1" };

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  home = createHome();
  const started = await runCli(home, ["daemon", "start", "--json"], { env: DAEMON_ENV });
  expect(started.code, started.stderr).toBe(0);
  await addSandboxWorker(home, sandbox, "sched");
  client = await connect(home);
}, 90_000);

afterAll(async () => {
  client?.close();
  await cleanupHomes();
  await sandbox?.close();
});

/** A cron expression for "every minute, at the second `aheadMs` from now". */
function everyMinuteSoon(aheadMs: number): string {
  return `${new Date(Date.now() + aheadMs).getUTCSeconds()} * * * * *`;
}

/**
 * Adds a schedule due within seconds. On a machine so loaded that its second passed before the
 * add arrived (its first run is then a minute away), it is removed and added again.
 */
async function addSoon(add: (cron: string) => Promise<ScheduleView>, aheadMs: number): Promise<ScheduleView> {
  for (let attempt = 0; ; attempt++) {
    const schedule = await add(everyMinuteSoon(aheadMs));
    if (schedule.nextRunAt! - Date.now() < 10_000 || attempt === 2) return schedule;
    await client.call(api.schedules.remove, { schedule: schedule.id });
  }
}

/** Resolves with a schedule's runs once `done` holds, watching them live. */
const runsUntil = (schedule: string, done: (runs: ScheduleRunView[]) => boolean, timeoutMs = 45_000) =>
  untilLive(client, api.schedules.runs, { schedule }, done, timeoutMs);

const textOf = (m: MessageView) => m.parts.map((p) => (p.kind === "text" ? p.text : "")).join("");

describe("scheduled prompts on a real OpenCode", () => {
  it("a run sends the prompt into the schedule's chat at its time, and is completed when the reply ends", async () => {
    const schedule = await addSoon(
      (cron) =>
        cliJson<ScheduleView>(home, ["schedule", "add", "--worker", "sched", "--cron", cron, "--tz", "UTC", "--prompt", "good morning", "--name", "morning"]),
      3000,
    );
    const seen = new Set<string>();
    const runs = await runsUntil("morning", (list) => {
      list.forEach((r) => seen.add(r.status));
      return list[0]?.status === "completed" || list[0]?.status === "failed";
    });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "completed", reason: null, scheduledFor: schedule.nextRunAt, chatId: schedule.chatId });
    expect(runs[0]!.recordedAt - runs[0]!.scheduledFor).toBeLessThan(1000);
    expect(runs[0]!.finishedAt).toBeGreaterThanOrEqual(runs[0]!.recordedAt);
    expect([...seen]).toContain("sent");

    const messages = await client.call(api.chat.messages, { chat: schedule.chatId });
    const prompt = messages.find((m) => m.id === runs[0]!.messageId)!;
    expect(textOf(prompt)).toBe("good morning");
    const reply = messages.find((m) => m.replyTo === prompt.id)!;
    expect(reply).toMatchObject({ role: "assistant", status: "completed" });
    expect(textOf(reply)).toBe("echo: good morning");
    expect((await client.call(api.chat.get, { chat: schedule.chatId })).title).toBe("morning"); // named after the schedule, not the prompt

    const human = await runCli(home, ["schedule", "runs", "morning"]);
    expect(human.stdout).toMatch(/completed\s+msg_/);
    await client.call(api.schedules.pause, { schedule: "morning" });
  });

  it("a run whose chat is still answering fails, and says so", async () => {
    const chat = await client.call(api.chat.create, { worker: "sched", title: "busy" });
    const slow = await client.call(api.chat.send, { chat: chat.id, text: "stream slowly" }); // about four seconds
    await addSoon((cron) => client.call(api.schedules.add, { chat: chat.id, cron, timezone: "UTC", prompt: "are you free?", name: "nudge" }), 2000);
    const runs = await runsUntil("nudge", (list) => list.length > 0 && list[0]!.status !== "sent");
    expect(runs[0]).toMatchObject({ status: "failed", messageId: null });
    expect(runs[0]!.reason).toBe(`chat 'busy' is still answering; wait for it, or stop it with: ocfleet chat abort ${chat.id}`);
    await client.call(api.schedules.remove, { schedule: "nudge" });
    await client.call(api.chat.abort, { chat: chat.id });
    // The refused prompt left nothing in the chat.
    expect((await client.call(api.chat.messages, { chat: chat.id })).filter((m) => m.role === "user").map((m) => m.id)).toEqual([slow.messageId]);
  });

  it("the cleanup job prunes the stream chunks of finished replies, and the replies keep their text", async () => {
    const chat = await client.call(api.chat.create, { worker: "sched" });
    const { messageId } = await client.call(api.chat.send, { chat: chat.id, text: "stream fast 200" });
    let reply: MessageView | undefined;
    let chunks: JobStatusView | undefined;
    const deadline = Date.now() + 30_000;
    // Until a cleanup run that began after the reply ended has finished.
    while (!(reply && chunks?.lastRun && chunks.lastRun.startedAt > reply.completedAt! + 1)) {
      if (Date.now() > deadline) throw new Error(`no cleanup after the reply: ${JSON.stringify(chunks)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      reply ??= (await client.call(api.chat.messages, { chat: chat.id })).find((m) => m.replyTo === messageId);
      chunks = (await client.call(api.admin.jobs, {})).find((j) => j.job === "stream-chunks");
    }
    expect(chunks.removedRecently).toBeGreaterThan(0);
    expect(chunks.lastRun.error).toBeNull();
    const after = (await client.call(api.chat.messages, { chat: chat.id })).find((m) => m.id === reply!.id)!;
    expect(after.status).toBe("completed");
    expect(textOf(after)).toBe("0123456789".repeat(20));
  });
});
