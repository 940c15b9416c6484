// A worker on another machine, through the hub: two real daemons (each its own OCFLEET_HOME), the
// machine joined over the TLS link, a real OpenCode with the fake model on the joined machine, and
// the chat and its permission request driven from the hub's clients exactly as for a local worker.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { descendantsOf } from "../../src/platform/processes.js";
import { api, type ChatView, type MessageView, type PartView, type WorkerView } from "../../src/protocol/api/index.js";
import { cleanupHomes, cliJson, connect, createHome, daemonState, runCli, startCli } from "../helpers/daemon.js";
import { enableHub, invite } from "../helpers/hub-net.js";
import { createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";

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
