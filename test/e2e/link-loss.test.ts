// The link between a joined machine and its hub breaks: dropped by a TCP proxy mid-reply (the reply
// completes, every delta once, from the agent's outbox), or the machine's daemon is killed -9 mid-reply
// (the hub gives the turn up as interrupted once the machine is silent; after a restart it relinks
// and new sends work).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { api, type MembershipView, type MessageView, type PartView, type WorkerView } from "../../src/protocol/api/index.js";
import { cleanupHomes, cliJson, connect, connectAsOwner, createHome, killDaemon, runCli } from "../helpers/daemon.js";
import { invite } from "../helpers/hub-net.js";
import { createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

const ENV = {
  OCFLEET_HEARTBEAT_MS: "300",
  OCFLEET_MACHINE_OFFLINE_MS: "3000",
  OCFLEET_LINK_BACKOFF_MS: "300",
  OCFLEET_LINK_PING_MS: "500",
  OCFLEET_WORKER_BACKOFF_MS: "100",
};

let hub: string;
let machine: string;
let sandbox: OpencodeSandbox;
let proxy: TcpProxy;
let client: FleetConnection;

const textOf = (m: MessageView | null | undefined) =>
  (m?.parts ?? [])
    .filter((p): p is Extract<PartView, { kind: "text" }> => p.kind === "text")
    .map((p) => p.text)
    .join("");
const markers = (text: string) => [...text.matchAll(/\[(\d+):/g)].map((m) => Number(m[1]));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function until<T>(subscribe: (onValue: (v: T) => void) => { unsubscribe(): void }, accept: (v: T) => boolean, what: string, timeoutMs = 45_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    const sub = subscribe((value) => {
      if (!accept(value)) return;
      clearTimeout(timer);
      queueMicrotask(() => sub.unsubscribe());
      resolve(value);
    });
  });
}

const replyTo = (chatId: string, messageId: string) =>
  until<MessageView[]>(
    (onValue) => client.subscribe(api.chat.messages, { chat: chatId }, { onValue }),
    (messages) => messages.some((m) => m.replyTo === messageId),
    "the reply",
  ).then((messages) => messages.find((m) => m.replyTo === messageId)!);

async function machineLink(connected: boolean): Promise<void> {
  const local = await connectAsOwner(machine);
  try {
    await until<MembershipView | null>(
      (onValue) => local.subscribe(api.membership.status, {}, { onValue }),
      (m) => m?.connected === connected,
      `the link ${connected ? "up" : "down"}`,
    );
  } finally {
    local.close();
  }
}

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  hub = createHome("ocf-hub-");
  machine = createHome("ocf-agent-");
  for (const home of [hub, machine]) expect((await runCli(home, ["daemon", "start"], { env: ENV })).code).toBe(0);
  const first = await cliJson(hub, ["hub", "enable", "--listen", "127.0.0.1:0"]);
  const hubPort = Number(first.listen.split(":").pop());
  // Machines dial the proxy: the invite carries its address as the hub's public URL.
  proxy = await new TcpProxy(hubPort).start();
  await cliJson(hub, ["hub", "enable", "--listen", first.listen, "--public-url", `wss://127.0.0.1:${proxy.port}`]);
  const joined = await runCli(machine, ["machine", "join", await invite(hub, { approve: true, name: "far" })]);
  expect(joined.code, joined.stderr).toBe(0);
  const worker = await cliJson(hub, [
    "worker",
    "add",
    sandbox.project("remote"),
    "--name",
    "remote",
    "--machine",
    "far",
    "--env-file",
    sandbox.envFile("remote"),
  ]);
  expect(worker.runState).toBe("idle");
  client = await connect(hub);
}, 90_000);

afterAll(async () => {
  client?.close();
  await proxy?.close();
  await cleanupHomes();
  await sandbox?.close();
});

describe("losing the link to a joined machine", () => {
  it("a reply that streams while the link is down arrives whole when it is back, every delta once", async () => {
    const chatId = (await client.call(api.chat.create, { worker: "remote" })).id;
    const streamed: string[] = [];
    const stream = client.subscribe(api.chat.stream, { chat: chatId }, { onValue: (m) => m && streamed.push(textOf(m)) });
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "stream timed 16 every 150 ms for the keeper of the far lighthouse" });
    await until<MessageView | null>(
      (onValue) => client.subscribe(api.chat.stream, { chat: chatId }, { onValue }),
      (m) => markers(textOf(m)).length >= 3,
      "the first pieces",
    );
    await proxy.drop();
    await machineLink(false);
    await proxy.restore();
    const reply = await replyTo(chatId, messageId);
    stream.unsubscribe();
    expect(reply.status).toBe("completed");
    expect(markers(textOf(reply))).toEqual(range(16));
    // What watchers saw only ever grew: no piece was applied twice or skipped and then patched in.
    const distinct = [...new Set(streamed)];
    distinct.forEach((text, i) => i > 0 && expect(text.startsWith(distinct[i - 1]!), `piece ${i}`).toBe(true));
    for (const text of distinct) expect(markers(text)).toEqual(range(markers(text).length));
    await machineLink(true);
  });

  it("a reply cut off past the timeout ends interrupted, and is reconciled from OpenCode's record when the machine is back", async () => {
    const chatId = (await client.call(api.chat.create, { worker: "remote" })).id;
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "stream timed 12 every 150 ms for the keeper of the far lighthouse" });
    await until<MessageView | null>(
      (onValue) => client.subscribe(api.chat.stream, { chat: chatId }, { onValue }),
      (m) => markers(textOf(m)).length >= 2,
      "the first pieces",
    );
    await proxy.drop();
    const replyIs = (status: MessageView["status"]) =>
      until<MessageView[]>(
        (onValue) => client.subscribe(api.chat.messages, { chat: chatId }, { onValue }),
        (messages) => messages.some((m) => m.replyTo === messageId && m.status === status),
        `the reply ${status}`,
      ).then((messages) => messages.find((m) => m.replyTo === messageId)!);
    // The hub gives up once the machine has been silent past OCFLEET_MACHINE_OFFLINE_MS.
    const cut = await replyIs("interrupted");
    expect(markers(textOf(cut)).length).toBeLessThan(12);
    await proxy.restore();
    // The worker went on on its machine; its record of the reply becomes the reply.
    const whole = await replyIs("completed");
    expect(whole.id).toBe(cut.id);
    expect(markers(textOf(whole))).toEqual(range(12));
    expect(whole.tokens).toMatchObject({ input: 12, output: 7 });
    await machineLink(true);
  });

  it("a command while the link is down fails at once, naming the machine, and goes through once the link is back", async () => {
    await proxy.drop();
    await machineLink(false);
    const started = performance.now();
    const down = await runCli(hub, ["worker", "logs", "remote"]);
    expect(down.code).not.toBe(0);
    // At once (not after the 60 s command timeout), saying which machine and what to do; a command that
    // was on its way when the link closed fails the same way, saying it may or may not have run.
    expect(down.stderr).toMatch(
      /machine 'far' is offline \(not connected to the hub\), so nothing was sent to it; try again once it is back|the link to machine 'far' closed/,
    );
    expect(performance.now() - started).toBeLessThan(15_000);
    await proxy.restore();
    await machineLink(true);
    const back = await runCli(hub, ["worker", "logs", "remote"]);
    expect(back.code, back.stderr).toBe(0);
  });

  it("kill -9 of the machine's daemon mid-reply: the turn ends interrupted; after a restart it relinks and new sends work", async () => {
    const chatId = (await client.call(api.chat.create, { worker: "remote" })).id;
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "stream timed 40 every 200 ms for the keeper of the far lighthouse" });
    await until<MessageView | null>(
      (onValue) => client.subscribe(api.chat.stream, { chat: chatId }, { onValue }),
      (m) => markers(textOf(m)).length >= 2,
      "the first pieces",
    );
    await killDaemon(machine, "SIGKILL");
    const reply = await replyTo(chatId, messageId);
    expect(reply.status).toBe("interrupted");
    expect(markers(textOf(reply)).length).toBeGreaterThanOrEqual(2);
    const far = (await cliJson(hub, ["machine", "list"])).find((m: { name: string }) => m.name === "far");
    expect(far).toMatchObject({ online: false });

    expect((await runCli(machine, ["daemon", "start"], { env: ENV })).code).toBe(0);
    await until<WorkerView>(
      (onValue) => client.subscribe(api.workers.get, { worker: "remote" }, { onValue }),
      (w) => w.runState === "idle",
      "the worker back on the relinked machine",
    );
    const printed = await runCli(hub, ["chat", "send", chatId, "are you back", "--wait"]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toBe("echo: are you back\n");
  });
});
