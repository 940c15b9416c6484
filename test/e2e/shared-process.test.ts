// Worker density: workers with the same OpenCode binary and environment share one `opencode serve`,
// and each still behaves as a worker of its own (chats, stop, logs, tools); a crash of the shared
// process brings them all back. A worker with its own environment, or --isolated, gets its own.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { descendantsOf, isPidAlive, listProcesses, readCommandLine, waitForExit } from "../../src/platform/processes.js";
import { api, type MessageView, type PartView, type WorkerView } from "../../src/protocol/api/index.js";
import { cleanupHomes, cliJson, connect, createHome, runCli, waitFor } from "../helpers/daemon.js";
import { untilLive } from "../helpers/live.js";
import { createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";

let home: string;
let sandbox: OpencodeSandbox;
let client: FleetConnection;
/** The overlay the three shared workers have in common. */
let sharedEnv: string;
const NAMES = ["one", "two", "three"] as const;
const workers = new Map<string, WorkerView>();
const DAEMON_ENV = { OCFLEET_WORKER_BACKOFF_MS: "100", OCFLEET_CHAT_MAX_RETRIES: "1" };

const textOf = (m: MessageView | null | undefined) =>
  (m?.parts ?? [])
    .filter((p): p is Extract<PartView, { kind: "text" }> => p.kind === "text")
    .map((p) => p.text)
    .join("");

const isOpencode = (pid: number) => readCommandLine(pid)?.some((arg) => arg.includes("opencode")) ?? false;

const waitForWorker = (worker: string, done: (w: WorkerView) => boolean) => untilLive(client, api.workers.get, { worker }, done, 50_000);

/** Every value the chat's streaming reply takes, until its reply to `messageId` is final. */
function follow(chatId: string, messageId: Promise<string>, onStream?: (m: MessageView) => void): Promise<{ reply: MessageView; streamed: string[] }> {
  const streamed: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no final reply in ${chatId}`)), 50_000);
    const stream = client.subscribe(api.chat.stream, { chat: chatId }, { onValue: (m) => m && (streamed.push(textOf(m)), onStream?.(m)) });
    void messageId.then((id) => {
      const messages = client.subscribe(
        api.chat.messages,
        { chat: chatId },
        {
          onValue: (all) => {
            const reply = all.find((m) => m.replyTo === id && m.status !== "streaming");
            if (!reply) return;
            clearTimeout(timer);
            stream.unsubscribe();
            messages.unsubscribe();
            resolve({ reply, streamed });
          },
        },
      );
    }, reject);
  });
}

function send(chatId: string, text: string, onStream?: (m: MessageView) => void) {
  const sent = client.call(api.chat.send, { chat: chatId, text }).then((r) => r.messageId);
  return follow(chatId, sent, onStream);
}

/** `worker add … --json`; one that starts an OpenCode process may take a while on a loaded machine. */
async function addWorker(args: string[]): Promise<WorkerView> {
  const result = await runCli(home, ["worker", "add", ...args, "--json"], { timeoutMs: 90_000 });
  if (result.code !== 0) throw new Error(`worker add ${args.join(" ")} exited ${result.code}\n${result.stderr}${result.stdout}`);
  return JSON.parse(result.stdout) as WorkerView;
}

const newChat = async (worker: string) => (await client.call(api.chat.create, { worker })).id;

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  home = createHome();
  const started = await runCli(home, ["daemon", "start", "--json"], { env: DAEMON_ENV });
  expect(started.code, started.stderr).toBe(0);
  client = await connect(home);
  sharedEnv = sandbox.envFile("shared");
  for (const name of NAMES) {
    workers.set(name, await addWorker([sandbox.project(name), "--name", name, "--env-file", sharedEnv]));
  }
}, 300_000);

afterAll(async () => {
  client?.close();
  await cleanupHomes();
  await sandbox?.close();
});

describe("workers sharing one OpenCode process", () => {
  it("serves three workers with the same environment from one process, and `worker list` says so", async () => {
    const pids = NAMES.map((name) => workers.get(name)!.pid);
    expect(workers.get("one")).toMatchObject({ runState: "idle", isolated: false });
    expect(new Set(pids).size).toBe(1);
    expect(isOpencode(pids[0]!)).toBe(true);
    const listed = await runCli(home, ["worker", "list"]);
    expect(listed.stdout).toContain(`${pids[0]} (3 workers)`);
    const json = await cliJson<WorkerView[]>(home, ["worker", "list"]);
    expect(json.map((w) => w.pid)).toEqual([pids[0], pids[0], pids[0]]);
  });

  it("streams three chats at once with no cross-talk", async () => {
    const chats = await Promise.all(NAMES.map((name) => newChat(name)));
    const prompts = NAMES.map((name) => `tell ${name} about ${name}-marker ${Array.from({ length: 12 }, () => `${name}-word`).join(" ")}`);
    const results = await Promise.all(chats.map((chat, i) => send(chat, prompts[i]!)));
    results.forEach(({ reply, streamed }, i) => {
      expect(reply.status).toBe("completed");
      expect(textOf(reply)).toBe(`echo: ${prompts[i]}`);
      const others = NAMES.filter((_, j) => j !== i);
      for (const text of [...streamed, textOf(reply)]) for (const other of others) expect(text).not.toContain(`${other}-`);
    });
  });

  it("keeps each worker's log to itself, and marks the process's own lines", async () => {
    const one = (await runCli(home, ["worker", "logs", "one", "-n", "2000"])).stdout;
    expect(one).toContain(`directory=${workers.get("one")!.directory}`);
    expect(one).not.toContain(`directory=${workers.get("two")!.directory}`);
    expect(one).toContain("[shared process");
  });

  it("stopping one worker aborts only its turn and kills only its tools; the process goes on for the others", async () => {
    const pid = workers.get("one")!.pid!;
    const [oneChat, twoChat, threeChat] = await Promise.all(NAMES.map((name) => newChat(name)));
    // A tool each in one and two, so the stop can be seen to reach one's and not two's.
    const toolOf = (seconds: number) => () => listProcesses().find((p) => readCommandLine(p.pid)?.join(" ") === `sleep ${seconds}`);
    const oneTool = send(oneChat!, "run command sleep 301");
    const twoTool = send(twoChat!, "run command sleep 302");
    const oneSleep = await waitFor("one's tool", toolOf(301), 30_000);
    const twoSleep = await waitFor("two's tool", toolOf(302), 30_000);
    let stopping: Promise<unknown> | undefined;
    const slow = send(threeChat!, "stream slowly please");
    const oneSlowChat = await newChat("one");
    const oneSlow = send(oneSlowChat, "stream slowly please", (m) => {
      if (!stopping && textOf(m).includes("slow 2")) stopping = cliJson(home, ["worker", "stop", "one"]);
    });
    const [oneReply, oneToolReply] = await Promise.all([oneSlow, oneTool]);
    expect(oneReply.reply.status).not.toBe("completed");
    expect(textOf(oneReply.reply)).not.toContain("slow 39");
    expect(oneToolReply.reply.status).not.toBe("completed");
    expect(await stopping).toMatchObject({ runState: "offline", pid: null });
    expect(await waitForExit(oneSleep.pid, 5000)).toBe(true);
    expect(isPidAlive(twoSleep.pid)).toBe(true);
    expect(isPidAlive(pid)).toBe(true);

    const three = await slow;
    expect(three.reply.status).toBe("completed");
    expect(textOf(three.reply)).toContain("slow 39");
    expect(await client.call(api.workers.get, { worker: "two" })).toMatchObject({ pid, runState: "active" });

    await client.call(api.chat.abort, { chat: twoChat! });
    expect((await twoTool).reply.status).not.toBe("completed");
    // Back in the same process: a start is the first request for its directory, not a new process.
    const back = await cliJson<WorkerView>(home, ["worker", "start", "one"]);
    expect(back).toMatchObject({ runState: "idle", pid });
  });

  it("restarts the shared process after kill -9 and brings all three back", async () => {
    const old = (await client.call(api.workers.get, { worker: "one" })).pid!;
    const before = new Map(await Promise.all(NAMES.map(async (n) => [n, (await client.call(api.workers.get, { worker: n })).restartCount] as const)));
    process.kill(old, "SIGKILL");
    const back = await Promise.all(NAMES.map((name) => waitForWorker(name, (w) => w.runState === "idle" && w.pid !== null && w.pid !== old)));
    expect(new Set(back.map((w) => w.pid)).size).toBe(1);
    expect(isOpencode(back[0]!.pid!)).toBe(true);
    // At least one restart each (a restart that failed on a loaded machine counts as one more).
    for (const w of back) expect(w.restartCount).toBeGreaterThanOrEqual(before.get(w.name as (typeof NAMES)[number])! + 1);
    const replies = await Promise.all(NAMES.map(async (name) => (await send(await newChat(name), `hello again ${name}`)).reply));
    replies.forEach((reply, i) => expect(textOf(reply)).toBe(`echo: hello again ${NAMES[i]}`));
  }, 180_000);

  it("gives a worker with its own environment its own process", async () => {
    const shared = (await client.call(api.workers.get, { worker: "one" })).pid!;
    const solo = await addWorker([sandbox.project("solo"), "--name", "solo", "--env-file", sandbox.envFile("solo")]);
    expect(solo.runState).toBe("idle");
    expect(solo.pid).not.toBe(shared);
    expect(isOpencode(solo.pid!)).toBe(true);
    // The last worker of a process leaving stops it.
    await cliJson(home, ["worker", "remove", "solo"]);
    expect(await waitForExit(solo.pid!, 5000)).toBe(true);
  }, 180_000);

  it("gives an --isolated worker its own process even with the same environment", async () => {
    const shared = (await client.call(api.workers.get, { worker: "one" })).pid!;
    const own = await addWorker([sandbox.project("own"), "--name", "own", "--env-file", sharedEnv, "--isolated"]);
    expect(own).toMatchObject({ runState: "idle", isolated: true });
    expect(own.pid).not.toBe(shared);
    expect(descendantsOf(shared).map((p) => p.pid)).not.toContain(own.pid);
    expect((await runCli(home, ["worker", "list"])).stdout).toContain(`${own.pid} (own)`);

    // A crash of the shared process touches only its own workers.
    let ownChanged: WorkerView | undefined;
    const watch = client.subscribe(api.workers.get, { worker: "own" }, { onValue: (w) => (w.runState !== "idle" || w.pid !== own.pid) && (ownChanged ??= w) });
    process.kill(shared, "SIGKILL");
    await Promise.all(NAMES.map((name) => waitForWorker(name, (w) => w.runState === "idle" && w.pid !== null && w.pid !== shared)));
    watch.unsubscribe();
    expect(ownChanged).toBeUndefined();
    expect(await client.call(api.workers.get, { worker: "own" })).toMatchObject({ runState: "idle", pid: own.pid, restartCount: 0 });
  }, 180_000);
});
