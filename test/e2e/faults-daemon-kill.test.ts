// Fault injection: kill -9 of the daemon at moments chosen (seeded) from the events of a turn,
// streaming and tool runs alike. After each: no committed message lost, nothing left streaming, no
// OpenCode or tool process left behind, and the next send works. FAULT_SEED=<n> replays a run.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { isPidAlive, waitForExit } from "../../src/platform/processes.js";
import { api, type MessageView, type WorkerView } from "../../src/protocol/api/index.js";
import { cleanupHomes, cliJson, connect, createHome, daemonState, waitFor } from "../helpers/daemon.js";
import {
  addPatientWorker,
  agentMarkFor,
  ChatWatcher,
  faultSeed,
  findProcess,
  type SeenMessage,
  seededRandom,
  seenOf,
  strayProcesses,
  textOf,
} from "../helpers/faults.js";
import { createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";
import { processesMarkedWith } from "../../src/platform/processes.js";
import { AGENT_MARK } from "../../src/daemon/agent/reaper.js";

const ITERATIONS = Number(process.env.FAULT_ITERATIONS ?? 20);
// The daemons this file starts (auto-started by `connect`) inherit these: a worker that died comes back at once.
process.env.OCFLEET_WORKER_BACKOFF_MS = "100";

let home: string;
let sandbox: OpencodeSandbox;
let client: FleetConnection;

/** Waits until the worker answers prompts again (idle) with an OpenCode other than `oldPid`. */
function workerReady(oldPid: number | null): Promise<WorkerView> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the worker did not come back")), 60_000);
    const sub = client.subscribe(
      api.workers.get,
      { worker: "main" },
      {
        onValue: (w) => {
          if (w.runState === "idle" && w.pid !== null && w.pid !== oldPid) {
            clearTimeout(timer);
            sub.unsubscribe();
            resolve(w);
          }
        },
        onError: (err) => reject(err),
      },
    );
  });
}

type Moment = "sent" | "delta" | "tool-running" | "tool-process" | "tool-done" | "completed";
const MOMENTS: readonly Moment[] = ["sent", "delta", "delta", "tool-running", "tool-process", "tool-done", "completed"];

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  home = createHome();
  client = await connect(home);
  await addPatientWorker(home, sandbox, "main");
}, 300_000);

afterAll(async () => {
  client?.close();
  await cleanupHomes();
  await sandbox?.close();
});

describe("kill -9 of the daemon at seeded moments of a turn", () => {
  it(`loses no committed message, leaves nothing streaming or running, and the next send works (${ITERATIONS} kills)`, async () => {
    const seed = faultSeed("daemon kill -9");
    const random = seededRandom(seed);
    const chatId = (await client.call(api.chat.create, { worker: "main" })).id;
    /** Every message a client saw committed, over all iterations: none may change or vanish. */
    const committed = new Map<string, SeenMessage>();
    let opencodePid = (await client.call(api.workers.get, { worker: "main" })).pid;
    const log: string[] = [];

    for (let i = 0; i < ITERATIONS; i++) {
      const moment = random.pick(MOMENTS);
      const context = `seed ${seed}, kill ${i + 1} (${moment})`;
      log.push(context);
      const t0 = Date.now();
      const phases: string[] = [];
      const phase = (name: string) => phases.push(`${name} ${Date.now() - t0} ms`);
      const watcher = new ChatWatcher(client, chatId);
      const daemonPid = daemonState(home)!.pid;
      const kill = () => process.kill(daemonPid, "SIGKILL");
      const sleeper = `sleep ${700 + i}`;
      let prompt: string;
      let killed: Promise<unknown>;
      let deltaAt = -1;
      switch (moment) {
        case "sent":
          prompt = `stream timed 20 every 40 ms (${i})`;
          break;
        case "delta":
          deltaAt = random.int(14);
          prompt = `stream timed 15 every 40 ms (${i})`;
          break;
        case "tool-running":
        case "tool-process":
          prompt = `run command ${sleeper}`;
          break;
        case "tool-done":
          prompt = `run command echo tool-${i}`;
          break;
        case "completed":
          prompt = `the quick brown fox number ${i}`;
          break;
      }
      const { messageId } = await client.call(api.chat.send, { chat: chatId, text: prompt });
      const toolState = (status: string) => () => (watcher.streaming?.parts ?? []).some((p) => p.kind === "tool" && p.status === status);
      switch (moment) {
        case "sent":
          killed = Promise.resolve(kill());
          break;
        case "delta":
          killed = watcher.at(() => textOf(watcher.streaming).includes(`[${deltaAt}:`), kill, 60_000, `delta ${deltaAt}`);
          break;
        case "tool-running":
          killed = watcher.at(toolState("running"), kill, 60_000, "the tool running");
          break;
        case "tool-process":
          killed = waitFor("the tool's process", () => findProcess(sleeper, processesMarkedWith({ [AGENT_MARK]: agentMarkFor(home) })), 60_000).then(kill);
          break;
        case "tool-done":
          killed = watcher.at(toolState("completed"), kill, 60_000, "the tool done");
          break;
        case "completed":
          killed = watcher.at(() => watcher.replyTo(messageId)?.status === "completed", kill, 60_000, "the reply committed");
          break;
      }
      await killed;
      phase("killed");
      // What the client saw committed up to the kill: the user's message is committed once send returned.
      const toolPids = processesMarkedWith({ [AGENT_MARK]: agentMarkFor(home) });
      for (const [id, m] of watcher.committed) committed.set(id, m);
      expect(committed.has(messageId as string), context).toBe(true);
      const streamedText = new Map(watcher.streamedText);
      watcher.close();
      expect(await waitForExit(daemonPid, 10_000), context).toBe(true);

      // Restart (the client library starts the daemon), and read the chat back as a user would.
      client.close();
      client = await connect(home);
      phase("connected");
      const ready = workerReady(opencodePid);
      const show = await cliJson<{ messages: MessageView[]; streaming: MessageView | null; chat: { busy: boolean } }>(home, ["chat", "show", chatId]);
      phase("shown");
      const stored = new Map<string, MessageView>(show.messages.map((m) => [m.id, m]));
      for (const [id, seen] of committed) {
        const now = stored.get(id);
        expect(now, `${context}: message ${id} lost`).toBeDefined();
        expect(seenOf(now!), `${context}: message ${id} changed`).toEqual(seen);
      }
      expect(
        show.messages.filter((m) => m.status === "streaming"),
        context,
      ).toEqual([]);
      expect(show.streaming, context).toBeNull();
      expect(show.chat.busy, context).toBe(false);
      // The reply cut short keeps a text consistent with what streamed: one is a prefix of the other.
      const reply = show.messages.find((m) => m.replyTo === messageId);
      if (reply) {
        const streamed = streamedText.get(reply.id) ?? "";
        const kept = textOf(reply);
        expect(kept.startsWith(streamed) || streamed.startsWith(kept), `${context}: kept "${kept}" vs streamed "${streamed}"`).toBe(true);
        expect(["interrupted", "completed"], context).toContain(reply.status);
      }
      for (const m of show.messages) committed.set(m.id, seenOf(m));

      // No OpenCode or tool process of the dead daemon survives its successor's start.
      const back = await ready;
      phase("worker back");
      console.log(`${context}: ${phases.join(", ")}`);
      for (const pid of [opencodePid, ...toolPids].filter((p): p is number => p !== null && p !== back.pid)) {
        expect(await waitForExit(pid, 5000), `${context}: pid ${pid} left running`).toBe(true);
      }
      expect(strayProcesses(home, back.pid), context).toEqual([]);
      expect(isPidAlive(back.pid!), context).toBe(true);
      opencodePid = back.pid;
    }

    // The next send works, and ends whole.
    const watcher = new ChatWatcher(client, chatId);
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "are you still there" });
    await watcher.at(
      () => watcher.replyTo(messageId) !== undefined,
      () => undefined,
      60_000,
      "the last reply",
    );
    watcher.close();
    const last = (await client.call(api.chat.messages, { chat: chatId })).find((m) => m.replyTo === messageId);
    expect(last?.status, log.join("\n")).toBe("completed");
  }, 900_000); // about 2 to 4 minutes: a kill costs a daemon and an OpenCode start; far more on an overloaded machine
});
