// A worker on another machine, through the hub: two real daemons (each its own OCFLEET_HOME), the
// machine joined over the TLS link, a real OpenCode with the fake model on the joined machine, and
// the chat and its permission request driven from the hub's clients exactly as for a local worker.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { descendantsOf } from "../../src/platform/processes.js";
import { LINK_RATE } from "../../src/protocol/link.js";
import { statePaths } from "../../src/protocol/statefile.js";
import { api, type ChatView, type LinkTraffic, type MessageView, type PartView, type WorkerView } from "../../src/protocol/api/index.js";
import { cleanupHomes, cliJson, connect, createHome, daemonState, runCli, startCli, twoUsers } from "../helpers/daemon.js";
import { enableHub, invite } from "../helpers/hub-net.js";
import { createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";

/** Chunks in the fastest stream (as the chat bench's). */
const FAST_CHUNKS = 3000;

let hub: string;
let machine: string;
let sandbox: OpencodeSandbox;
let client: FleetConnection;
/** The chat of the first test, watched by a remote client in the second. */
let firstChat = "";

const textOf = (m: MessageView | null | undefined) =>
  (m?.parts ?? [])
    .filter((p): p is Extract<PartView, { kind: "text" }> => p.kind === "text")
    .map((p) => p.text)
    .join("");

function watch<T>(subscribe: (onValue: (v: T) => void) => { unsubscribe(): void }, until: (v: T) => boolean, what: string, timeoutMs = 45_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    const sub = subscribe((value) => {
      if (!until(value)) return;
      clearTimeout(timer);
      queueMicrotask(() => sub.unsubscribe());
      resolve(value);
    });
  });
}

const replyTo = (chatId: string, messageId: string) =>
  watch<MessageView[]>(
    (onValue) => client.subscribe(api.chat.messages, { chat: chatId }, { onValue }),
    (messages) => messages.some((m) => m.replyTo === messageId),
    "the reply",
  ).then((messages) => messages.find((m) => m.replyTo === messageId)!);

async function addRemoteWorker(name: string, permission: "allow" | "ask" = "allow"): Promise<WorkerView> {
  return cliJson<WorkerView>(hub, [
    "worker",
    "add",
    sandbox.project(name),
    "--name",
    name,
    "--machine",
    "far",
    "--env-file",
    sandbox.envFile(name, permission),
  ]);
}

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  hub = createHome("ocf-hub-");
  machine = createHome("ocf-agent-");
  await enableHub(hub);
  const joined = await runCli(machine, ["machine", "join", await invite(hub, { approve: true, name: "far" })]);
  expect(joined.code, joined.stderr).toBe(0);
  client = await connect(hub);
}, 60_000);

afterAll(async () => {
  client?.close();
  await cleanupHomes();
  await sandbox?.close();
});

describe("a worker on a joined machine", () => {
  it("starts on that machine, and a chat on it streams through the hub as a local one does", async () => {
    const worker = await addRemoteWorker("remote");
    expect(worker).toMatchObject({ machineName: "far", runState: "idle" });
    // OpenCode runs under the joined machine's daemon, not the hub's.
    expect(descendantsOf(daemonState(machine)!.pid).map((p) => p.pid)).toContain(worker.pid);
    expect(descendantsOf(daemonState(hub)!.pid).map((p) => p.pid)).not.toContain(worker.pid);

    const chatId = (await client.call(api.chat.create, { worker: "remote" })).id;
    firstChat = chatId;
    // Each piece leaves the fake model once this client has seen the one before (see fake-model.ts).
    const streamed: string[] = [];
    let stepped = 0;
    const onValue = (m: MessageView | null) => {
      if (!m) return;
      streamed.push(textOf(m));
      for (const seen = [...textOf(m).matchAll(/\[(\d+):/g)].length; stepped < seen; stepped++) sandbox.model.step("far");
    };
    const stream = client.subscribe(api.chat.stream, { chat: chatId }, { onValue });
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "stream stepped far 8 for the keeper of the far lighthouse" });
    const reply = await replyTo(chatId, messageId);
    stream.unsubscribe();
    expect(reply.status).toBe("completed");
    expect([...textOf(reply).matchAll(/\[(\d+):/g)].map((m) => Number(m[1]))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const distinct = [...new Set(streamed)];
    expect(distinct.length).toBeGreaterThanOrEqual(8);
    distinct.forEach((text, i) => i > 0 && expect(text.startsWith(distinct[i - 1]!), `piece ${i}`).toBe(true));
    expect(reply).toMatchObject({ model: "fake/fake-model", tokens: { input: 12, output: 7 } });

    // The hub's own CLI, too: `chat send --wait` prints the reply.
    const printed = await runCli(hub, ["chat", "send", chatId, "hello from the hub", "--wait"]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toBe("echo: hello from the hub\n");
    // The models and the log come from the far machine's OpenCode.
    expect((await cliJson(hub, ["worker", "models", "remote"])).map((m: { id: string }) => m.id)).toContain("fake/fake-model");
    expect((await runCli(hub, ["worker", "logs", "remote"])).code).toBe(0);
  });

  it("a remote client signs in with a login code, pins the fingerprint, and runs worker list and chat watch against the hub", async () => {
    const { url, fingerprint } = await cliJson(hub, ["hub", "status"]);
    const remote = createHome("ocf-client-");
    const { code } = await cliJson(hub, ["auth", "code"]);
    const login = await runCli(remote, ["login", "--hub", url, "--code", code, "--fingerprint", fingerprint]);
    expect(login.code, login.stderr).toBe(0);
    const workers = await runCli(remote, ["--hub", url, "worker", "list", "--json"]);
    expect(workers.code, workers.stderr).toBe(0);
    expect(JSON.parse(workers.stdout).find((w: WorkerView) => w.name === "remote")).toMatchObject({ machineName: "far", runState: "idle" });
    const watch = startCli(remote, ["--hub", url, "chat", "watch", firstChat]);
    await watch.waitForOutput(/echo: hello from the hub/);
    watch.child.kill("SIGINT");
    await watch.done;
  });

  it("a permission asked on the far machine is answered from a client of the hub", async () => {
    const asker = await addRemoteWorker("far-asker", "ask");
    const chatId = (await client.call(api.chat.create, { worker: asker.name })).id;
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "run command echo permitted > permitted.txt" });
    const waiting = await watch<ChatView>(
      (onValue) => client.subscribe(api.chat.get, { chat: chatId }, { onValue }),
      (chat) => chat.requests.length === 1,
      "the permission request",
    );
    const request = waiting.requests[0]!;
    expect(request).toMatchObject({ kind: "permission", status: "pending", permission: { name: "bash", detail: "echo permitted > permitted.txt" } });
    expect(await cliJson(hub, ["chat", "permit", request.id, "once"])).toMatchObject({ status: "answered", answer: "once" });
    const reply = await replyTo(chatId, messageId);
    expect(reply.status).toBe("completed");
    expect(readFileSync(join(asker.directory, "permitted.txt"), "utf8")).toBe("permitted\n");
  });

  it("a reply streamed at full speed stays under the link's rate limit (measured)", async () => {
    const traffic = async (): Promise<LinkTraffic> => {
      const far = (await client.call(api.machines.list, {})).find((m) => m.name === "far")!;
      return (await client.call(api.hub.status, {})).links.find((l) => l.machineId === far.id)!;
    };
    const chatId = (await client.call(api.chat.create, { worker: "remote" })).id;
    const before = await traffic();
    const started = performance.now();
    // The fake model's fastest stream: chunks with no delay between them.
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: `stream fast ${FAST_CHUNKS}` });
    const reply = await replyTo(chatId, messageId);
    const seconds = (performance.now() - started) / 1000;
    const after = await traffic();
    const frames = after.frames - before.frames;
    console.log(
      `stream fast ${FAST_CHUNKS} through the link: ${frames} frames, ${Math.round((after.bytes - before.bytes) / 1024)} KiB in ${seconds.toFixed(1)} s; ` +
        `busiest second ${after.peakFramesPerSecond} frames, ${Math.round(after.peakBytesPerSecond / 1024)} KiB (limit ${LINK_RATE.hub.framesPerSecond} frames, ${LINK_RATE.hub.bytesPerSecond / 1024 / 1024} MiB)`,
    );
    expect(reply.status).toBe("completed");
    expect(textOf(reply)).toHaveLength(FAST_CHUNKS);
    expect(frames).toBeGreaterThan(0);
    // The agent never had to hold reports back, and the hub never cut the link.
    expect(readFileSync(statePaths(machine).log, "utf8")).not.toContain("pacing reports");
    expect(readFileSync(statePaths(hub).log, "utf8")).not.toContain("faster than its limit");
    expect(after.peakFramesPerSecond).toBeLessThan(LINK_RATE.agent.framesPerSecond);
  });

  it("a reply too long for one report reaches the hub cut where it did not fit, and the link carries on", async () => {
    const links = () => readFileSync(statePaths(machine).log, "utf8").split("linked to the hub").length;
    const linkedBefore = links();
    const chatId = (await client.call(api.chat.create, { worker: "remote" })).id;
    // 9 MiB of text: the end of the reply, and the reply read back as it ends, carry it whole, past the 8 MiB the hub's listener reads.
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "stream big 9216 kb" });
    const reply = await replyTo(chatId, messageId);
    expect(reply.status).toBe("completed");
    // The link was never closed (a report the hub refuses closes it, and again at every resend), and it carries the next turn.
    const printed = await runCli(hub, ["chat", "send", chatId, "after the long one", "--wait"]);
    expect(printed.stdout).toBe("echo: after the long one\n");
    expect(links()).toBe(linkedBefore);
    // The hub has the whole text: the cut end of the part is shorter than what the deltas brought.
    const text = textOf(reply);
    expect(text).toHaveLength(9216 * 1024);
    expect(text.startsWith("the keeper of the far lighthouse writes on the keeper")).toBe(true);
    const log = readFileSync(statePaths(machine).log, "utf8");
    expect(log).toContain("cut a report to fit what the hub takes");
    expect(log).toContain("cut a command's answer to fit what the hub takes command=session.messages");
  });

  it("stopping, starting and removing the remote worker go over the link", async () => {
    const runState = (state: WorkerView["runState"]) =>
      watch<WorkerView>(
        (onValue) => client.subscribe(api.workers.get, { worker: "remote" }, { onValue }),
        (w) => w.runState === state,
        `the worker ${state}`,
      );
    expect((await runCli(hub, ["worker", "stop", "remote"])).code).toBe(0);
    // The agent's report of the stop comes through the outbox, just after the command's answer.
    await runState("offline");
    expect(await cliJson(hub, ["worker", "start", "remote"])).toMatchObject({ machineName: "far" });
    await runState("idle");
    const removed = await runCli(hub, ["worker", "remove", "remote"]);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await cliJson(hub, ["machine", "list"])).find((m: { name: string }) => m.name === "far")).toMatchObject({ online: true, approval: "approved" });
  });
});

describe("who may use a worker on a joined machine", () => {
  it("a second user of the hub neither sees nor steers another user's remote worker until it is shared, and then only uses it", async () => {
    const owned = await addRemoteWorker("far-private");
    const ownerChat = (await client.call(api.chat.create, { worker: owned.name })).id;
    const { plain, plainName, owner } = await twoUsers(hub);
    try {
      expect((await plain.call(api.workers.list, {})).map((w) => w.name)).not.toContain("far-private");
      const far = (await plain.call(api.machines.list, {})).find((m) => m.name === "far")!;
      expect(far.workers.total).toBe(0);
      await expect(plain.call(api.workers.get, { worker: "far-private" })).rejects.toMatchObject({ code: "not_found" });
      await expect(plain.call(api.chat.create, { worker: "far-private" })).rejects.toMatchObject({ code: "not_found" });
      await expect(plain.call(api.workers.stop, { worker: "far-private" })).rejects.toMatchObject({ code: "not_found" });
      await expect(plain.call(api.chat.send, { chat: ownerChat, text: "hello" })).rejects.toMatchObject({ code: "not_found" });
      await expect(plain.call(api.chat.messages, { chat: ownerChat })).rejects.toMatchObject({ code: "not_found" });

      // Shared: the second user chats on it through the hub, but cannot control it.
      await owner.call(api.workers.share, { worker: "far-private", with: plainName });
      const theirs = (await plain.call(api.chat.create, { worker: "far-private" })).id;
      const { messageId } = await plain.call(api.chat.send, { chat: theirs, text: "hello across machines" });
      const reply = await watch<MessageView[]>(
        (onValue) => plain.subscribe(api.chat.messages, { chat: theirs }, { onValue }),
        (messages) => messages.some((m) => m.replyTo === messageId && m.status === "completed"),
        "the shared worker's reply",
      );
      expect(textOf(reply.find((m) => m.replyTo === messageId))).toBe("echo: hello across machines");
      await expect(plain.call(api.workers.stop, { worker: "far-private" })).rejects.toMatchObject({
        code: "permission_denied",
        message: expect.stringMatching(/its owner/),
      });
      await expect(plain.call(api.workers.readLog, { worker: "far-private" })).rejects.toMatchObject({ code: "permission_denied" });
      expect((await client.call(api.workers.get, { worker: "far-private" })).runState).toBe("idle");
    } finally {
      plain.close();
      owner.close();
    }
  });
});

describe("removing a joined machine", () => {
  it("is refused while it is online; revoking it ends its running replies interrupted at once; then it goes with its workers, whose chats stay readable and refuse new sends", async () => {
    const workersThere = (await client.call(api.workers.list, {})).filter((w) => w.machineName === "far").map((w) => w.name);
    expect(workersThere.length).toBeGreaterThan(0);
    const chat = (await client.call(api.chat.list, {})).find((c) => c.workerName === "far-asker")!;
    const schedule = await client.call(api.schedules.add, { worker: workersThere[0]!, cron: "0 3 * * *", prompt: "nightly", name: "nightly-far" });

    const online = await runCli(hub, ["machine", "remove", "far"]);
    expect(online.code).toBe(1);
    expect(online.stderr).toMatch(/machine 'far' is online; revoke it first \(ocfleet machine revoke far\), or run: ocfleet machine remove far --force/);
    // A reply running there when the machine is revoked ends interrupted at once, as when the hub gives up on a
    // silent machine (without it, nothing would end the turn until the 10-minute stall sweep).
    const running = (await client.call(api.chat.create, { worker: workersThere[0]! })).id;
    const gate = sandbox.model.gate("revoked-mid-reply");
    const { messageId: cutShort } = await client.call(api.chat.send, { chat: running, text: "stream gated revoked-mid-reply" });
    await gate.reached;
    await watch<MessageView | null>(
      (onValue) => client.subscribe(api.chat.stream, { chat: running }, { onValue }),
      (m) => textOf(m).includes("slow 29"),
      "the reply up to its gate",
    );
    expect((await runCli(hub, ["machine", "revoke", "far"])).code).toBe(0);
    const interrupted = await watch<MessageView[]>(
      (onValue) => client.subscribe(api.chat.messages, { chat: running }, { onValue }),
      (messages) => messages.some((m) => m.replyTo === cutShort && m.status !== "streaming" && m.status !== "sent"),
      "the reply on the revoked machine to end",
    ).then((messages) => messages.find((m) => m.replyTo === cutShort)!);
    gate.open();
    expect(interrupted).toMatchObject({ status: "interrupted", error: { message: expect.stringContaining("machine revoked") } });
    expect(textOf(interrupted)).toContain("slow 29");
    const scheduled = await runCli(hub, ["machine", "remove", "far"]);
    expect(scheduled.code).toBe(1);
    expect(scheduled.stderr).toContain("nightly-far");
    expect(scheduled.stderr).toContain("--force");

    const removed = await runCli(hub, ["machine", "remove", "far", "--force"]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain(`removed far and its ${workersThere.length} worker`);
    for (const name of workersThere) expect(removed.stdout).toContain(name);
    expect(removed.stdout).toMatch(/chat\(s\) kept, readable, marked "machine far removed"/);
    expect(removed.stdout).toMatch(/1 schedule\(s\) removed/);

    expect((await cliJson(hub, ["machine", "list"])).map((m: { name: string }) => m.name)).not.toContain("far");
    expect((await client.call(api.workers.list, {})).filter((w) => w.machineName === "far")).toEqual([]);
    expect((await client.call(api.schedules.list, {})).map((s) => s.id)).not.toContain(schedule.id);
    const shown = await cliJson(hub, ["chat", "show", chat.id]);
    expect(shown.chat).toMatchObject({ workerRemoved: true, removedMachine: "far" });
    expect(shown.messages.length).toBeGreaterThan(0);
    // The chat says its machine was removed, not only its worker, in the list, in `chat show` and when a send is refused.
    expect((await runCli(hub, ["chat", "show", chat.id])).stdout).toContain("was on far-asker, machine far removed");
    expect((await runCli(hub, ["chat", "list", "--all"])).stdout).toMatch(/far-asker \(machine far removed\)/);
    await expect(client.call(api.chat.send, { chat: chat.id, text: "still there?" })).rejects.toMatchObject({
      code: "failed_precondition",
      message:
        "chat '" +
        shown.chat.title +
        "' was on worker 'far-asker' of machine 'far', which was removed; its transcript stays readable, and a new chat needs a worker: ocfleet chat new --worker <worker>",
    });
  });
});
