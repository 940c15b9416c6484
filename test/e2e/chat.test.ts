// Chat on a real OpenCode with the fake model: streaming, tools, permissions and questions, who may
// read a chat, aborts, provider errors and retries, late watchers, inactive chats and lost sessions,
// and a daemon killed or stopped mid-turn leaving nothing behind.
import { rmSync, statSync } from "node:fs";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { descendantsOf, isPidAlive, listProcesses, readCommandLine, waitForExit } from "../../src/platform/processes.js";
import { api, type ChatView, type MessageView, type PartView, type WorkerView } from "../../src/protocol/api/index.js";
import { FakeModel } from "../fixtures/fake-model.js";
import { cleanupHomes, cliJson, connect, connectWithSession, createHome, killDaemon, runCli, waitFor } from "../helpers/daemon.js";
import { untilLive } from "../helpers/live.js";
import { addSandboxWorker, createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";

let home: string;
let sandbox: OpencodeSandbox;
let client: FleetConnection;
let worker: WorkerView;
let asker: WorkerView;
const DAEMON_ENV = { OCFLEET_WORKER_BACKOFF_MS: "100", OCFLEET_CHAT_MAX_RETRIES: "1", OCFLEET_CHAT_INACTIVE_AFTER_MS: "2000" };

async function startDaemon(): Promise<void> {
  const started = await runCli(home, ["daemon", "start", "--json"], { env: DAEMON_ENV });
  expect(started.code, started.stderr).toBe(0);
  client = await connect(home);
}

const textOf = (m: MessageView | null | undefined) =>
  (m?.parts ?? [])
    .filter((p): p is Extract<PartView, { kind: "text" }> => p.kind === "text")
    .map((p) => p.text)
    .join("");

/** Sends through the client library and records every value of the reply as it streams. */
async function sendAndFollow(chatId: string, text: string, onStream?: (m: MessageView) => void): Promise<{ reply: MessageView; streamed: string[] }> {
  const streamed: string[] = [];
  const streamSub = client.subscribe(
    api.chat.stream,
    { chat: chatId },
    {
      onValue: (m) => {
        if (!m) return;
        streamed.push(textOf(m));
        onStream?.(m);
      },
    },
  );
  const { messageId } = await client.call(api.chat.send, { chat: chatId, text });
  const reply = await waitForReply(chatId, messageId);
  streamSub.unsubscribe();
  return { reply, streamed };
}

async function waitForReply(chatId: string, messageId: string, timeoutMs = 45_000): Promise<MessageView> {
  const messages = await untilLive(client, api.chat.messages, { chat: chatId }, (ms) => ms.some((m) => m.replyTo === messageId), timeoutMs);
  return messages.find((m) => m.replyTo === messageId)!;
}

const watchChat = (chatId: string, until: (chat: ChatView) => boolean, timeoutMs = 45_000) =>
  untilLive(client, api.chat.get, { chat: chatId }, until, timeoutMs);

async function newChat(on: WorkerView): Promise<string> {
  return (await client.call(api.chat.create, { worker: on.name })).id;
}

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  home = createHome();
  await startDaemon();
  worker = await addSandboxWorker(home, sandbox, "main");
  asker = await addSandboxWorker(home, sandbox, "asker", { permission: "ask" });
}, 90_000);

afterAll(async () => {
  client?.close();
  await cleanupHomes();
  await sandbox?.close();
});

describe("chat on a real OpenCode", () => {
  it("streams the reply in several ordered pieces, and names the chat from the first prompt", async () => {
    const chatId = await newChat(worker);
    let stepped = 0;
    // Twelve pieces, each let out by the fake model only once this client has seen the one before:
    // every piece arrives on its own however loaded the machine is.
    const prompt = "stream stepped lighthouse 12 for the lighthouse keeper who counted every wave";
    const { reply, streamed } = await sendAndFollow(chatId, prompt, (m) => {
      const seen = [...textOf(m).matchAll(/\[(\d+):/g)].length;
      while (stepped < seen) stepped++, sandbox.model.step("lighthouse");
    });
    expect(reply.status).toBe("completed");
    const markers = [...textOf(reply).matchAll(/\[(\d+):/g)].map((m) => Number(m[1]));
    expect(markers).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const distinct = [...new Set(streamed)];
    expect(distinct.length).toBeGreaterThanOrEqual(12);
    distinct.forEach((text, i) => i > 0 && expect(text.startsWith(distinct[i - 1]!), `piece ${i}`).toBe(true));
    expect(textOf(reply).startsWith(distinct.at(-1)!)).toBe(true);
    expect(reply).toMatchObject({ role: "assistant", model: "fake/fake-model", tokens: { input: 12, output: 7 } });
    expect(reply.completedAt).toBeGreaterThanOrEqual(reply.createdAt);
    const chat = await client.call(api.chat.get, { chat: chatId });
    expect(chat.title).toBe("stream stepped lighthouse 12 for the lighthouse…");
    expect(chat).toMatchObject({ busy: false, state: "active" });
    expect(chat.opencodeSessionId).toMatch(/^ses_/);
    expect(chat.opencodeSessionId).not.toBe(chat.id);
  });

  it("`chat send --wait` prints the reply to stdout and exits 0; text can come from stdin", async () => {
    const chatId = await newChat(worker);
    const result = await runCli(home, ["chat", "send", chatId, "-", "--wait"], { stdin: "from a pipe\n" });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("echo: from a pipe\n");
    const show = await cliJson(home, ["chat", "show", chatId]);
    expect(show.messages.map((m: MessageView) => `${m.role}:${m.status}`)).toEqual(["user:sent", "assistant:completed"]);
  });

  it("records a tool turn: the file exists and the tool part keeps its output", async () => {
    const chatId = await newChat(worker);
    const { reply } = await sendAndFollow(chatId, "write file notes.txt containing remember the milk");
    expect(reply.status).toBe("completed");
    expect(readFileSync(join(worker.directory, "notes.txt"), "utf8")).toBe("remember the milk");
    const tool = reply.parts.find((p) => p.kind === "tool");
    expect(tool).toMatchObject({ kind: "tool", tool: "write", status: "completed", input: { filePath: "notes.txt", content: "remember the milk" } });
    expect((tool as { output: string }).output).toContain("Wrote file successfully");
    expect(textOf(reply)).toBe("wrote notes.txt");
    expect(reply.tokens?.input).toBe(24); // two model steps, summed
  });

  it("shows a permission request; `permit once` lets the turn finish", async () => {
    const chatId = await newChat(asker);
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "run command echo permitted > permitted.txt" });
    const waiting = await watchChat(chatId, (c) => c.requests.length === 1);
    const request = waiting.requests[0]!;
    expect(request).toMatchObject({ kind: "permission", status: "pending", permission: { name: "bash", detail: "echo permitted > permitted.txt" } });
    const pending = await cliJson(home, ["chat", "pending"]);
    expect(pending.map((r: { id: string }) => r.id)).toContain(request.id);
    const permitted = await cliJson(home, ["chat", "permit", request.id, "once"]);
    expect(permitted).toMatchObject({ status: "answered", answer: "once" });
    const reply = await waitForReply(chatId, messageId);
    expect(reply.status).toBe("completed");
    expect(readFileSync(join(asker.directory, "permitted.txt"), "utf8")).toBe("permitted\n");
    expect((await client.call(api.chat.get, { chat: chatId })).requests).toEqual([]);
    const again = await runCli(home, ["chat", "permit", request.id, "once"]);
    expect(again.stderr).toContain("already answered");
  });

  it("ends the turn when a permission is rejected", async () => {
    const chatId = await newChat(asker);
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "run command echo nope > rejected.txt" });
    const request = (await watchChat(chatId, (c) => c.requests.length === 1)).requests[0]!;
    // The turn waits for the user; `chat list` says so, and not that it is answering.
    const listed = await runCli(home, ["chat", "list", "--worker", asker.id]);
    expect(listed.stdout).toMatch(new RegExp(`${chatId}.*1 waiting for you`));
    expect(listed.stdout).not.toContain("answering");
    await cliJson(home, ["chat", "permit", request.id.slice(0, 10), "reject"]); // a unique prefix is enough
    const reply = await waitForReply(chatId, messageId);
    expect(reply.status).not.toBe("streaming");
    const tool = reply.parts.find((p) => p.kind === "tool");
    expect(tool).toMatchObject({ status: "error" });
    expect(() => readFileSync(join(asker.directory, "rejected.txt"))).toThrow();
  });

  it("shows a question; `chat answer` picks an option and the turn goes on", async () => {
    const chatId = await newChat(worker);
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "please ask me a question" });
    const request = (await watchChat(chatId, (c) => c.requests.length === 1)).requests[0]!;
    expect(request).toMatchObject({ kind: "question", questions: [{ question: "Which color do you like?", options: [{ label: "red" }, { label: "blue" }] }] });
    const wrong = await runCli(home, ["chat", "permit", request.id, "once"]);
    expect(wrong.stderr).toContain("is a question; answer it with: ocfleet chat answer");
    const answering = await runCli(home, ["chat", "answer", request.id, "2", "--json"]); // by number
    expect(answering.code, answering.stderr).toBe(0);
    const answered = JSON.parse(answering.stdout);
    expect(answered).toMatchObject({ status: "answered", answer: [["blue"]] });
    const reply = await waitForReply(chatId, messageId);
    expect(reply.status).toBe("completed");
    expect(textOf(reply)).toContain("you answered:");
    expect(textOf(reply)).toContain("blue");
  });

  it("lets only a chat's owner (or an admin) read or write it", async () => {
    const bob = await connectWithSession(home);
    await bob.call(api.auth.loginAnonymous, {});
    const eve = await connectWithSession(home);
    await eve.call(api.auth.loginAnonymous, {});
    // Bob may chat on the admin's worker only once it is shared (model/workerAccess.ts); eve may too.
    await client.call(api.workers.share, { worker: "main", everyone: true });
    const chatId = (await bob.call(api.chat.create, { worker: "main" })).id;
    const { messageId } = await bob.call(api.chat.send, { chat: chatId, text: "bob's private words" });
    await waitForReply(chatId, messageId); // the admin (this test's client) may read it
    const refused = [
      () => eve.call(api.chat.get, { chat: chatId }),
      () => eve.call(api.chat.messages, { chat: chatId }),
      () => eve.call(api.chat.stream, { chat: chatId }),
      () => eve.call(api.chat.send, { chat: chatId, text: "let me in" }),
      () => eve.call(api.chat.abort, { chat: chatId }),
      () => eve.call(api.chat.rename, { chat: chatId, title: "mine now" }),
      () => eve.call(api.chat.archive, { chat: chatId }),
      () => eve.call(api.chat.get, { chat: chatId.slice(0, 8) }), // nor by a prefix
    ];
    for (const attempt of refused) await expect(attempt()).rejects.toMatchObject({ code: "not_found" });
    expect(await eve.call(api.chat.list, { all: true })).toEqual([]);
    const eveSees = await new Promise<unknown>((resolve) => eve.subscribe(api.chat.messages, { chat: chatId }, { onValue: resolve, onError: resolve }));
    expect(eveSees).toMatchObject({ code: "not_found" });
    expect((await bob.call(api.chat.messages, { chat: chatId })).map((m) => m.role)).toEqual(["user", "assistant"]);
    expect((await client.call(api.chat.list, { all: true })).map((c) => c.id)).toContain(chatId);
    expect((await client.call(api.chat.list, {})).map((c) => c.id)).not.toContain(chatId); // by default: your own
    await client.call(api.workers.unshare, { worker: "main" });
    bob.close();
    eve.close();
  });

  it("keeps the partial text when a reply is aborted mid-stream", async () => {
    const chatId = await newChat(worker);
    let aborted = false;
    const { reply } = await sendAndFollow(chatId, "stream slowly please", (m) => {
      if (!aborted && textOf(m).includes("slow 3")) {
        aborted = true;
        void runCli(home, ["chat", "abort", chatId]);
      }
    });
    expect(reply.status).toBe("aborted");
    expect(textOf(reply)).toMatch(/^slow 0 slow 1 slow 2 slow 3 /);
    expect(textOf(reply)).not.toContain("slow 39");
  });

  it("turns a provider 400 into an error message", async () => {
    const chatId = await newChat(worker);
    const result = await runCli(home, ["chat", "send", chatId, "please fail with 400", "--wait"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/── ✗ .*bad request \(as asked\) · fake\/fake-model/); // the footer the TUI shows too
    const [, reply] = await client.call(api.chat.messages, { chat: chatId });
    expect(reply).toMatchObject({ status: "error", error: { message: expect.stringContaining("bad request (as asked)") } });
  });

  it("shows the retry state of a provider 500, then gives up after the limit", async () => {
    const chatId = await newChat(worker);
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "please fail with 500" });
    const retrying = await watchChat(chatId, (c) => c.retry !== null);
    expect(retrying.retry).toMatchObject({ attempt: 1, message: expect.stringContaining("internal error (as asked)") });
    const reply = await waitForReply(chatId, messageId, 60_000);
    expect(reply).toMatchObject({ status: "error", error: { name: "RetryLimit", message: expect.stringContaining("gave up after 1 retry:") } });
    expect((await client.call(api.chat.get, { chat: chatId })).retry).toBeNull();
  }, 60_000);

  it("gives a client that connects mid-stream the whole text so far, then the rest, with no gap", async () => {
    const chatId = await newChat(worker);
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "stream slowly for the late joiner" });
    await waitForStream(chatId, (m) => textOf(m).includes("slow 2"));
    const late = await connect(home);
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      const sub = late.subscribe(
        api.chat.stream,
        { chat: chatId },
        {
          onValue: (m) => {
            if (m) seen.push(textOf(m));
            if (seen.length > 0 && textOf(m).includes("slow 8")) {
              sub.unsubscribe();
              resolve();
            }
          },
        },
      );
    });
    const watcher = runCli(home, ["chat", "watch", chatId], { timeoutMs: 20_000 });
    const reply = await waitForReply(chatId, messageId);
    late.close();
    expect(seen.length).toBeGreaterThan(1);
    seen.forEach((text, i) => i > 0 && expect(text.startsWith(seen[i - 1]!)).toBe(true));
    expect(textOf(reply).startsWith(seen.at(-1)!)).toBe(true);
    expect(textOf(reply)).toContain("slow 39");
    // The CLI watcher that joined mid-stream printed the reply exactly once, whole.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const pid = listProcesses().find((p) => readCommandLine(p.pid)?.includes("watch") && readCommandLine(p.pid)?.includes(chatId))?.pid;
    if (pid) process.kill(pid, "SIGINT");
    const out = (await watcher).stdout;
    expect(out.split(textOf(reply)).length - 1).toBe(1);
  });

  it("keeps two chats streaming on one worker apart", async () => {
    const [a, b] = [await newChat(worker), await newChat(worker)];
    const [ra, rb] = await Promise.all([
      sendAndFollow(a, "alpha alpha alpha alpha alpha alpha alpha alpha alpha alpha"),
      sendAndFollow(b, "bravo bravo bravo bravo bravo bravo bravo bravo bravo bravo"),
    ]);
    expect(textOf(ra.reply)).toBe("echo: alpha alpha alpha alpha alpha alpha alpha alpha alpha alpha");
    expect(textOf(rb.reply)).toBe("echo: bravo bravo bravo bravo bravo bravo bravo bravo bravo bravo");
    expect(ra.streamed.every((t) => !t.includes("bravo"))).toBe(true);
    expect(rb.streamed.every((t) => !t.includes("alpha"))).toBe(true);
  });

  it("goes inactive when idle, and resumes on its OpenCode session", async () => {
    const chatId = await newChat(worker);
    await sendAndFollow(chatId, "first words");
    const idle = await watchChat(chatId, (c) => c.state === "inactive", 15_000);
    const { reply } = await sendAndFollow(chatId, "second words");
    expect(reply.status).toBe("completed");
    const resumed = await client.call(api.chat.get, { chat: chatId });
    expect(resumed.state).toBe("active");
    expect(resumed.opencodeSessionId).toBe(idle.opencodeSessionId);
  });

  it("resumes an inactive chat whose session is gone on a new session, seeded with the story so far", async () => {
    const chatId = await newChat(worker);
    await sendAndFollow(chatId, "the secret word is pelican");
    const before = await watchChat(chatId, (c) => c.state === "inactive", 15_000);
    // A fresh OpenCode data directory: the old session no longer exists.
    rmSync(join(sandbox.root, "opencode", "main", "data"), { recursive: true, force: true });
    await cliJson(home, ["worker", "restart", "main"]);
    const { reply } = await sendAndFollow(chatId, "what was the secret word?");
    expect(reply.status).toBe("completed");
    const after = await client.call(api.chat.get, { chat: chatId });
    expect(after.opencodeSessionId).not.toBe(before.opencodeSessionId);
    const prompt = FakeModel.lastUserText(sandbox.model.requests.at(-1)!);
    expect(prompt).toContain("User: the secret word is pelican");
    expect(prompt).toContain("what was the secret word?");
  });

  it("moves an active chat to a new session when its session vanished under it", async () => {
    const chatId = await newChat(worker);
    await sendAndFollow(chatId, "remember the word heron");
    const before = await client.call(api.chat.get, { chat: chatId });
    expect(before.state).toBe("active");
    rmSync(join(sandbox.root, "opencode", "main", "data"), { recursive: true, force: true });
    await cliJson(home, ["worker", "restart", "main"]);
    const { reply } = await sendAndFollow(chatId, "which word?");
    expect(reply.status).toBe("completed");
    expect((await client.call(api.chat.get, { chat: chatId })).opencodeSessionId).not.toBe(before.opencodeSessionId);
    expect(FakeModel.lastUserText(sandbox.model.requests.at(-1)!)).toContain("User: remember the word heron");
  });

  it("marks a reply interrupted when the daemon is killed mid-stream; a new send works after restart", async () => {
    const chatId = await newChat(worker);
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "stream slowly until the crash" });
    await waitForStream(chatId, (m) => textOf(m).includes("slow 4"));
    await new Promise((resolve) => setTimeout(resolve, 120)); // past one write batch
    client.close();
    await killDaemon(home, "SIGKILL");
    await startDaemon();
    const messages = await client.call(api.chat.messages, { chat: chatId });
    const reply = messages.find((m) => m.replyTo === messageId)!;
    expect(reply.status).toBe("interrupted");
    expect(textOf(reply)).toMatch(/^slow 0 slow 1 slow 2 slow 3 slow 4/);
    expect((await client.call(api.chat.get, { chat: chatId })).busy).toBe(false);
    const { reply: next } = await sendAndFollow(chatId, "are you back?");
    expect(next.status).toBe("completed");
    expect(textOf(next)).toBe("echo: are you back?");
  });

  it("waits for a worker that is still starting: a send right after the daemon comes back goes out", async () => {
    const chatId = await newChat(worker);
    client.close();
    expect((await runCli(home, ["daemon", "stop"])).code).toBe(0);
    // The first command starts the daemon, whose workers are then still starting.
    const sent = await runCli(home, ["chat", "send", chatId, "hello after a restart", "--wait"], { env: DAEMON_ENV });
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain("echo: hello after a restart");
    client = await connect(home);
  });

  it("runs OpenCode and its tools with the user's umask, not the daemon's private 077", async () => {
    const umask = process.umask();
    process.umask(umask);
    const chatId = await newChat(worker);
    const { reply } = await sendAndFollow(chatId, "run command mkdir -p umask-dir && echo x > umask-dir/file.txt");
    expect(reply.status).toBe("completed");
    expect(statSync(join(worker.directory, "umask-dir")).mode & 0o777).toBe(0o777 & ~umask);
    expect(statSync(join(worker.directory, "umask-dir", "file.txt")).mode & 0o777).toBe(0o666 & ~umask);
  });

  it("reaps a tool started just before the daemon is killed -9, which no census could have seen", async () => {
    const chatId = await newChat(worker);
    await client.call(api.chat.send, { chat: chatId, text: "run command sleep 785" });
    const sleeper = await waitFor("the sleep tool", () => listProcesses().find((p) => readCommandLine(p.pid)?.join(" ") === "sleep 785"), 30_000);
    client.close();
    await killDaemon(home, "SIGKILL");
    await startDaemon();
    expect(await waitForExit(sleeper.pid, 5000)).toBe(true);
    expect((await sendAndFollow(chatId, "are you back?")).reply.status).toBe("completed");
  });

  it("stops the daemon mid-turn without leaving OpenCode or its tool processes, and records the reply interrupted", async () => {
    const chatId = await newChat(worker);
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "run command sleep 300" });
    await waitForStream(chatId, (m) => m.parts.some((p) => p.kind === "tool" && p.status === "running"));
    const opencodePid = (await client.call(api.workers.get, { worker: "main" })).pid!;
    const sleeper = await waitFor("the sleep tool", () => descendantsOf(opencodePid).find((p) => readCommandLine(p.pid)?.join(" ") === "sleep 300"));
    client.close();
    const stopped = await runCli(home, ["daemon", "stop"]);
    expect(stopped.code).toBe(0);
    expect(isPidAlive(opencodePid)).toBe(false);
    expect(await waitForExit(sleeper.pid, 2000)).toBe(true);
    await startDaemon();
    const reply = (await client.call(api.chat.messages, { chat: chatId })).find((m) => m.replyTo === messageId);
    expect(reply).toMatchObject({ status: "interrupted", error: { message: "the daemon stopped during the reply" } });
  });

  it("leaves no OpenCode or tool process behind even when OpenCode stops answering during the stop", async () => {
    const chatId = await newChat(worker);
    await client.call(api.chat.send, { chat: chatId, text: "run command sleep 300" });
    await waitForStream(chatId, (m) => m.parts.some((p) => p.kind === "tool" && p.status === "running"));
    const opencodePid = (await client.call(api.workers.get, { worker: "main" })).pid!;
    const sleeper = await waitFor("the sleep tool", () => descendantsOf(opencodePid).find((p) => readCommandLine(p.pid)?.join(" ") === "sleep 300"));
    process.kill(opencodePid, "SIGSTOP"); // frozen: the stop's abort and dispose requests get no answer
    client.close();
    const stopped = await runCli(home, ["daemon", "stop"]);
    expect(stopped.code, stopped.stderr).toBe(0);
    try {
      expect(await waitForExit(opencodePid, 5000)).toBe(true);
      expect(await waitForExit(sleeper.pid, 5000)).toBe(true);
    } finally {
      for (const pid of [opencodePid, sleeper.pid]) if (isPidAlive(pid)) process.kill(pid, "SIGKILL");
    }
    await startDaemon();
  });
});

/** Resolves once the streaming reply satisfies `done`. */
const waitForStream = (chatId: string, done: (m: MessageView) => boolean) => untilLive(client, api.chat.stream, { chat: chatId }, (m) => m !== null && done(m));

/** After a restart the worker needs a moment to come back; sends before that fail cleanly. */
