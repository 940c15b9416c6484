// A break in a worker's event stream, made for real: the kernel resets the daemon's connections to
// OpenCode (`ss -K`), and the daemon waits OCFLEET_EVENTS_RETRY_MS (4 s here) before it reconnects.
// What OpenCode did meanwhile (a reply's end, a permission request) must not be lost.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { api, type MessageView, type PartView, type WorkerView } from "../../src/protocol/api/index.js";
import { cleanupHomes, cliJson, connect, createHome, runCli } from "../helpers/daemon.js";
import { addSandboxWorker, createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";

let home: string;
let sandbox: OpencodeSandbox;
let client: FleetConnection;
let worker: WorkerView;
let asker: WorkerView;

const textOf = (m: MessageView | null | undefined) =>
  (m?.parts ?? [])
    .filter((p): p is Extract<PartView, { kind: "text" }> => p.kind === "text")
    .map((p) => p.text)
    .join("");

const workerLog = (w: WorkerView) => readFileSync(join(home, "workers", `${w.id}.log`), "utf8");

/** How many breaks of its event stream the worker's log has recorded. */
const breaksIn = (w: WorkerView) => [...workerLog(w).matchAll(/--- ocfleet: event stream: .*; retrying/g)].length;

/** Resets every connection from the daemon to the worker's OpenCode, found by its "listening" line. */
function breakEventStream(w: WorkerView): void {
  const port = [...workerLog(w).matchAll(/listening on http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => m[1]).at(-1)!;
  // Piped: ss reports "Invalid argument" on stderr for sockets it cannot close, even on success.
  execFileSync("ss", ["-K", "dst", "127.0.0.1", "dport", "=", `:${port}`], { stdio: "pipe" });
}

/** Polls an async probe every 100 ms until it gives a value. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  home = createHome();
  expect((await runCli(home, ["daemon", "start"], { env: { OCFLEET_EVENTS_RETRY_MS: "4000" } })).code).toBe(0);
  client = await connect(home);
  worker = await addSandboxWorker(home, sandbox, "main");
  asker = await addSandboxWorker(home, sandbox, "asker", { permission: "ask" });
}, 90_000);

afterAll(async () => {
  client?.close();
  await cleanupHomes();
  await sandbox?.close();
});

describe("a break in a worker's event stream", () => {
  it("finishes a reply that ended while the stream was down, with all its text, and the worker goes back to idle", async () => {
    const chatId = (await client.call(api.chat.create, { worker: worker.name })).id;
    // The model stops after 30 pieces until the test opens its gate: the break comes first, and the
    // last ten pieces and the end happen while the stream is down (the daemon waits 4 s to reconnect).
    const gate = sandbox.model.gate("past-the-break");
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "stream gated past-the-break" });
    await gate.reached;
    breakEventStream(worker);
    gate.open();
    await gate.finished;

    const reply = await eventually(
      "the reply to end",
      async () => (await client.call(api.chat.messages, { chat: chatId })).find((m) => m.replyTo === messageId && m.status !== "streaming"),
      20_000,
    );
    expect(reply.status, `${reply.error?.message}\n${workerLog(worker)}`).toBe("completed");
    expect(textOf(reply)).toBe(Array.from({ length: 40 }, (_, i) => `slow ${i} `).join(""));
    expect(reply).toMatchObject({ model: "fake/fake-model" });
    expect(workerLog(worker)).toMatch(/--- ocfleet: event stream: .*ECONN\w+; retrying/);
    expect(readFileSync(join(home, "daemon.log"), "utf8")).toMatch(/read back \d+ part\(s\) the events missed after the event stream came back/);
    await eventually(
      "the worker to be idle",
      async () => (await cliJson<WorkerView[]>(home, ["worker", "list", "--json"])).find((w) => w.id === worker.id)?.runState === "idle",
      10_000,
    );
    expect((await client.call(api.chat.get, { chat: chatId })).busy).toBe(false);
  }, 60_000);

  it("shows a permission that was asked while the stream was down, and the turn goes on once it is answered", async () => {
    const chatId = (await client.call(api.chat.create, { worker: asker.name })).id;
    const breaksBefore = breaksIn(asker);
    breakEventStream(asker);
    await eventually("the daemon to see the break", async () => breaksIn(asker) > breaksBefore, 20_000);
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "run command echo asked > asked.txt" });
    // A guard, not a wait: on a loaded 2-core machine OpenCode can take most of a minute to get to the tool.
    const request = await eventually("the pending permission", async () => (await client.call(api.chat.get, { chat: chatId })).requests[0], 60_000);
    expect(request).toMatchObject({ kind: "permission", status: "pending", permission: { name: "bash", detail: "echo asked > asked.txt" } });
    await client.call(api.chat.permit, { request: request.id, reply: "once" });
    const reply = await eventually(
      "the reply to end",
      async () => (await client.call(api.chat.messages, { chat: chatId })).find((m) => m.replyTo === messageId && m.status !== "streaming"),
      60_000,
    );
    expect(reply.status).toBe("completed");
    expect(textOf(reply)).toContain("ran it");
    expect(readFileSync(join(asker.directory, "asked.txt"), "utf8")).toBe("asked\n");
  }, 120_000);
});
