// Fault injection on a running daemon: kill -9 of a worker's OpenCode mid-turn (streaming and in a
// tool run), and a model that hangs mid-stream (stopped by the user, and by the turn inactivity limit).
// After each: the turn ends with a reason, nothing stays streaming, no process is left behind, and the
// next send works. (faults-daemon-kill: kill -9 of the daemon; faults-disk: a full disk.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { AGENT_MARK } from "../../src/daemon/agent/reaper.js";
import { processesMarkedWith, waitForExit } from "../../src/platform/processes.js";
import { api, type ChatView, type MessageView, type WorkerView } from "../../src/protocol/api/index.js";
import { cleanupHomes, connect, createHome, runCli, waitFor } from "../helpers/daemon.js";
import { addPatientWorker, agentMarkFor, ChatWatcher, findProcess, strayProcesses, textOf } from "../helpers/faults.js";
import { createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";

const STALL_MS = 6000;
let home: string;
let sandbox: OpencodeSandbox;
let client: FleetConnection;

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  home = createHome();
  const started = await runCli(home, ["daemon", "start"], { env: { OCFLEET_WORKER_BACKOFF_MS: "100", OCFLEET_TURN_STALL_MS: String(STALL_MS) } });
  expect(started.code, started.stderr).toBe(0);
  client = await connect(home);
  await addPatientWorker(home, sandbox, "main");
  // OpenCode's first prompt is its slowest (it loads the provider): not a moment to test silence on.
  const warm = await runCli(home, ["chat", "send", (await client.call(api.chat.create, { worker: "main" })).id, "warm up", "--wait"], { timeoutMs: 120_000 });
  expect(warm.code, warm.stderr).toBe(0);
}, 300_000);

afterAll(async () => {
  client?.close();
  await cleanupHomes();
  await sandbox?.close();
});

/** Resolves with the worker once `done` holds for it. */
function workerWhen(done: (w: WorkerView) => boolean, timeoutMs = 120_000): Promise<WorkerView> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the worker never got there")), timeoutMs);
    const sub = client.subscribe(
      api.workers.get,
      { worker: "main" },
      {
        onValue: (w) => {
          if (!done(w)) return;
          clearTimeout(timer);
          sub.unsubscribe();
          resolve(w);
        },
        onError: reject,
      },
    );
  });
}

/** Resolves with the chat once `done` holds for it. */
function chatWhen(chatId: string, done: (c: ChatView) => boolean): Promise<ChatView> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the chat never got there")), 120_000);
    const sub = client.subscribe(
      api.chat.get,
      { chat: chatId },
      {
        onValue: (c) => {
          if (!done(c)) return;
          clearTimeout(timer);
          sub.unsubscribe();
          resolve(c);
        },
        onError: reject,
      },
    );
  });
}

/** The chat's reply to `messageId` once it is committed (no longer streaming). */
function replyTo(watcher: ChatWatcher, chatId: string, messageId: string, what: string): Promise<MessageView> {
  return watcher
    .at(
      () => watcher.replyTo(messageId) !== undefined && watcher.streaming === null,
      () => undefined,
      120_000,
      what,
    )
    .then(async () => (await client.call(api.chat.messages, { chat: chatId })).find((m) => m.replyTo === messageId)!);
}

async function sendWorks(chatId: string): Promise<void> {
  const sent = await runCli(home, ["chat", "send", chatId, "still with me", "--wait"], { timeoutMs: 120_000 });
  expect(sent.code, sent.stderr).toBe(0);
  expect(sent.stdout).toBe("echo: still with me\n");
}

describe("a model that hangs mid-stream", () => {
  it("is stopped by `chat abort`: the reply ends aborted with what came, and the model's connection is closed", async () => {
    const chatId = (await client.call(api.chat.create, { worker: "main" })).id;
    const watcher = new ChatWatcher(client, chatId);
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "hang after 3" });
    await watcher.at(
      () => textOf(watcher.streaming).includes("h2 "),
      () => undefined,
      60_000,
      "the first words",
    );
    expect(sandbox.model.hanging).toBe(1);
    const aborted = await runCli(home, ["chat", "abort", chatId]);
    expect(aborted.code, aborted.stderr).toBe(0);
    const reply = await replyTo(watcher, chatId, messageId, "the aborted reply");
    expect(reply).toMatchObject({ status: "aborted" });
    expect(textOf(reply)).toBe("h0 h1 h2 ");
    await waitFor("the model's connection to close", () => sandbox.model.hanging === 0, 30_000);
    await sendWorks(chatId);
    watcher.close();
  }, 180_000);

  it(`is stopped by the turn inactivity limit (OCFLEET_TURN_STALL_MS=${STALL_MS}) with the reason`, async () => {
    const chatId = (await client.call(api.chat.create, { worker: "main" })).id;
    const watcher = new ChatWatcher(client, chatId);
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "hang after 2" });
    const reply = await replyTo(watcher, chatId, messageId, "the stalled reply to be stopped");
    expect(reply).toMatchObject({
      status: "error",
      error: { name: "Stalled", message: expect.stringContaining(`the model sent nothing for ${STALL_MS / 1000} s`) },
    });
    expect(textOf(reply)).toBe("h0 h1 ");
    await waitFor("the model's connection to close", () => sandbox.model.hanging === 0, 30_000);
    expect((await client.call(api.chat.get, { chat: chatId })).busy).toBe(false);
    await sendWorks(chatId);
    watcher.close();
  }, 180_000);

  it("does not count a tool at work, or a question waiting for the user, as silence", async () => {
    const chatId = (await client.call(api.chat.create, { worker: "main" })).id;
    const watcher = new ChatWatcher(client, chatId);
    // A tool quiet for longer than the limit.
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: `run command sleep ${(STALL_MS * 1.5) / 1000}` });
    expect((await replyTo(watcher, chatId, messageId, "the tool turn")).status).toBe("completed");
    // A question left unanswered for longer than the limit (asserting an absence takes waiting).
    const asked = await client.call(api.chat.send, { chat: chatId, text: "please ask me a question" });
    const request = await chatWhen(chatId, (c) => c.requests.length > 0);
    await new Promise((resolve) => setTimeout(resolve, STALL_MS * 1.5));
    expect(watcher.streaming?.status).toBe("streaming");
    const answered = await runCli(home, ["chat", "answer", request.requests[0]!.id, "1"]);
    expect(answered.code, answered.stderr).toBe(0);
    expect((await replyTo(watcher, chatId, asked.messageId, "the answered turn")).status).toBe("completed");
    watcher.close();
  }, 180_000);
});

describe("kill -9 of a worker's OpenCode mid-turn", () => {
  for (const during of ["streaming", "a tool run"] as const) {
    it(`during ${during}: the reply ends interrupted with the reason, the worker comes back, nothing is left behind, the next send works`, async () => {
      const chatId = (await client.call(api.chat.create, { worker: "main" })).id;
      const watcher = new ChatWatcher(client, chatId);
      const before = await workerWhen((w) => w.runState === "idle" && w.pid !== null);
      const sleeper = "sleep 913";
      const prompt = during === "streaming" ? "stream timed 300 every 30 ms" : `run command ${sleeper}`;
      const { messageId } = await client.call(api.chat.send, { chat: chatId, text: prompt });
      let toolPid: number | undefined;
      if (during === "streaming") {
        await watcher.at(
          () => textOf(watcher.streaming).includes("[3:"),
          () => undefined,
          60_000,
          "the reply streaming",
        );
      } else {
        toolPid = await waitFor("the tool's process", () => findProcess(sleeper, processesMarkedWith({ [AGENT_MARK]: agentMarkFor(home) })), 60_000);
      }
      process.kill(before.pid!, "SIGKILL");

      const reply = await replyTo(watcher, chatId, messageId, "the reply to end");
      expect(reply).toMatchObject({
        status: "interrupted",
        error: { message: expect.stringMatching(/^the worker is (starting|offline|error): OpenCode exited/) },
      });
      if (during === "streaming") expect(textOf(reply)).toMatch(/^\[0:[\d.]+\]\[1:[\d.]+\]\[2:[\d.]+\]\[3:/);
      else expect(await waitForExit(toolPid!, 10_000)).toBe(true);
      expect((await client.call(api.chat.get, { chat: chatId })).busy).toBe(false);

      const back = await workerWhen((w) => w.runState === "idle" && w.pid !== null && w.pid !== before.pid);
      expect(back.restartCount).toBeGreaterThan(before.restartCount);
      expect(strayProcesses(home, back.pid)).toEqual([]);
      await sendWorks(chatId);
      watcher.close();
    }, 300_000);
  }
});
