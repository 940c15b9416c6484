// Search and usage against a real OpenCode with the fake model. Search: a reply is found once it
// completes (the live search updates by itself), the CLI prints ranked hits with highlights through
// the sanitizer, another user never finds the text, a malformed query is a usage error naming
// <words>. Usage: totals are the token counts the fake model reports (12 in, 7 out per step).
// Budgets: with the fake model priced, a spent budget refuses the next turn and lets a running one finish.
// Notifications: a webhook on loopback gets done, failed and waiting from real turns, a 500 is
// retried, and no payload carries a secret from the conversation.
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { api, type MessageView, type SearchHit } from "../../src/protocol/api/index.js";
import { TOO_DEEP_MARKER } from "../../src/protocol/json-depth.js";
import { cleanupHomes, cliJson, connect, connectWithSession, createHome, runCli, startCli } from "../helpers/daemon.js";
import { untilLive } from "../helpers/live.js";
import { addSandboxWorker, createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";

let home: string;
let sandbox: OpencodeSandbox;
let client: FleetConnection;

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  home = createHome();
  const started = await runCli(home, ["daemon", "start", "--json"], { env: { OCFLEET_NOTIFY_RETRY_MS: "50", OCFLEET_CHAT_MAX_RETRIES: "1" } });
  expect(started.code, started.stderr).toBe(0);
  client = await connect(home);
  await addSandboxWorker(home, sandbox, "main");
}, 90_000);

afterAll(async () => {
  client?.close();
  await cleanupHomes();
  await sandbox?.close();
});

it("finds a reply once it completes, live, and the CLI shows it with the match highlighted", async () => {
  const chatId = (await client.call(api.chat.create, { worker: "main", title: "sea creatures" })).id;
  const seen: SearchHit[][] = [];
  let replyFound!: () => void;
  const found = new Promise<void>((resolve) => (replyFound = resolve));
  const sub = client.subscribe(
    api.search.messages,
    { query: "narwhal" },
    {
      onValue: (hits) => {
        seen.push(hits);
        if (hits.some((h) => h.role === "assistant")) replyFound();
      },
    },
  );
  const sent = await runCli(home, ["chat", "send", chatId, "the narwhal \x1b[31mtusk", "--wait"]);
  expect(sent.code, sent.stderr).toBe(0);
  await found;
  sub.unsubscribe();
  expect(seen[0]).toEqual([]); // before the send: nothing
  const show = await cliJson(home, ["chat", "show", chatId]);
  const reply = show.messages.find((m: { role: string }) => m.role === "assistant");
  expect(reply.status).toBe("completed");
  const last = seen.at(-1)!;
  expect(last.find((h) => h.role === "assistant")).toMatchObject({ chatId, messageId: reply.id, chatTitle: "sea creatures", workerName: "main" });
  expect(last.find((h) => h.role === "user")).toBeDefined();

  const json: SearchHit[] = await cliJson(home, ["chat", "search", "narwhal", "--role", "assistant"]);
  expect(json.map((h) => h.messageId)).toEqual([reply.id]);
  expect(json[0]!.snippet.filter((p) => p.match).map((p) => p.text)).toEqual(["narwhal"]);
  expect(json[0]!.snippet.map((p) => p.text).join("")).toContain("\x1b[31m"); // --json keeps the exact text

  const human = await runCli(home, ["chat", "search", "narwhal", "--role", "assistant"]);
  expect(human.code, human.stderr).toBe(0);
  expect(human.stdout).toContain("sea creatures");
  expect(human.stdout).toContain("[narwhal]"); // not a terminal: brackets instead of bold
  expect(human.stdout).toContain("^[[31mtusk"); // the escape made visible, never sent raw
  expect(human.stdout).not.toContain("\x1b");
});

// SQLite's JSON functions refuse text nested deeper than 1000 levels, and the search index reads a
// tool part's input with them: a model that nested its tool input 1500 deep made the end of its
// reply impossible to save, and the reply stayed streaming.
it("saves, shows and finds a tool call whose input a hostile model nested deeper than SQLite's JSON reads", async () => {
  const chatId = (await client.call(api.chat.create, { worker: "main" })).id;
  const sent = await runCli(home, ["chat", "send", chatId, "nest 1500 deep and run command echo deepwalrus", "--wait"]);
  expect(sent.code, sent.stderr).toBe(0);
  const shown = await cliJson(home, ["chat", "show", chatId]);
  expect(shown.streaming).toBeNull();
  const reply = shown.messages.find((m: MessageView) => m.role === "assistant") as MessageView;
  expect(reply.status).toBe("completed");
  const tool = reply.parts.find((p) => p.kind === "tool");
  expect(tool).toMatchObject({ kind: "tool", tool: "bash", status: "completed", input: { command: "echo deepwalrus" } });
  expect(JSON.stringify(tool)).toContain(TOO_DEEP_MARKER);
  const hits = await client.call(api.search.messages, { query: "deepwalrus" });
  expect(
    hits.map((h) => [h.role, h.messageId]),
    JSON.stringify(hits),
  ).toContainEqual(["tool", reply.id]);
  const next = await runCli(home, ["chat", "send", chatId, "still answering?", "--wait"]);
  expect(next.code, next.stderr).toBe(0);
  expect(next.stdout).toContain("echo: still answering?");
});

it("never lets another user find your text", async () => {
  const chatId = (await client.call(api.chat.create, { worker: "main" })).id;
  const sent = await runCli(home, ["chat", "send", chatId, "my walrus secret", "--wait"]);
  expect(sent.code, sent.stderr).toBe(0);
  expect((await client.call(api.search.messages, { query: "walrus" })).length).toBe(2);
  const eve = await connectWithSession(home);
  await eve.call(api.auth.loginAnonymous, {});
  expect(await eve.call(api.search.messages, { query: "walrus" })).toEqual([]);
  expect(await eve.call(api.search.messages, { query: "walrus", all: true })).toEqual([]);
  eve.close();
});

it("says what is wrong with a query it cannot read, naming <words>, with exit 2", async () => {
  const bad = await runCli(home, ["chat", "search", '"narwhal']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("<words>: a phrase is missing its closing quote");
  expect(bad.stderr).not.toMatch(/sqlite|fts5/i);
  const since = await runCli(home, ["chat", "search", "narwhal", "--since", "yesterday"]);
  expect(since.code).toBe(2);
  expect(since.stderr).toContain("--since: must be a number and a unit");
});

it("adds up usage from what the fake model reported, per chat and in total, and chat list shows each chat's cost", async () => {
  const before = await cliJson(home, ["usage", "--by", "chat"]);
  const chatId = (await client.call(api.chat.create, { worker: "main", title: "counting" })).id;
  for (const prompt of ["one", "two"]) {
    const sent = await runCli(home, ["chat", "send", chatId, prompt, "--wait"]);
    expect(sent.code, sent.stderr).toBe(0);
  }
  const report = await cliJson(home, ["usage", "--by", "chat"]);
  const row = report.rows.find((r: { key: string }) => r.key === chatId);
  expect(row).toMatchObject({ label: "counting", replies: 2, tokens: { input: 24, output: 14, reasoning: 0, cacheRead: 0, cacheWrite: 0 } });
  expect(report.total.replies).toBe(before.total.replies + 2);
  expect(report.total.tokens.input).toBe(before.total.tokens.input + 24);
  const show = await cliJson(home, ["chat", "show", chatId]);
  expect(show.chat.usage.tokens).toEqual(row.tokens); // one source: the reply's own record
  const byDay = await cliJson(home, ["usage", "--by", "day", "--since", "1d"]);
  expect(byDay.rows).toHaveLength(1);
  expect(byDay.rows[0].key).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  expect(byDay.total).toEqual(report.total);
  const human = await runCli(home, ["usage", "--by", "worker"]);
  expect(human.stdout).toMatch(/main\s+\d+\s+\d+/);
  expect(human.stdout).toContain("total");
  const list = await cliJson(home, ["chat", "list"]);
  expect(list.find((c: { id: string }) => c.id === chatId).cost).toBe(0); // the fake model has no price
  expect((await runCli(home, ["chat", "list"])).stdout).toContain("COST");
  const bad = await runCli(home, ["usage", "--by", "planet"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("--by: must be one of chat, worker, machine, model, user, day");
});

async function waitForReply(chatId: string, messageId: string): Promise<MessageView> {
  const messages = await untilLive(client, api.chat.messages, { chat: chatId }, (ms) => ms.some((m) => m.replyTo === messageId));
  return messages.find((m) => m.replyTo === messageId)!;
}

it("a spent budget refuses the next turn from the CLI, while a turn already running finishes", async () => {
  // The fake model priced at $1000 per million tokens: a reply of 12 in and 7 out costs $0.019.
  await addSandboxWorker(home, sandbox, "priced", { costPerMillionTokens: 1000 });
  const set = await runCli(home, ["budget", "set", "--worker", "priced", "--usd", "0.01", "--period", "day"]);
  expect(set.code, set.stderr).toBe(0);

  const slow = (await client.call(api.chat.create, { worker: "priced" })).id;
  const quick = (await client.call(api.chat.create, { worker: "priced", title: "quick" })).id;
  // The slow turn waits at the fake model's gate until the budget has refused "again": it is surely still running then.
  const gate = sandbox.model.gate("long-one");
  const { messageId: slowPrompt } = await client.call(api.chat.send, { chat: slow, text: "stream gated long-one for the long one" });
  await gate.reached;
  const first = await runCli(home, ["chat", "send", quick, "short", "--wait"]);
  expect(first.code, first.stderr).toBe(0);
  const refused = await runCli(home, ["chat", "send", quick, "again", "--wait"]);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain("the budget of worker priced ($0.0100 a day) is spent: $0.0190");
  expect(refused.stderr).toContain("it resets");
  gate.open();

  const slowReply = await waitForReply(slow, slowPrompt);
  expect(slowReply.status).toBe("completed");
  const quickReply = (await client.call(api.chat.messages, { chat: quick })).find((m) => m.role === "assistant")!;
  expect(quickReply.completedAt!).toBeLessThan(slowReply.completedAt!); // the budget was spent while the slow turn ran
  expect((await client.call(api.chat.messages, { chat: quick })).map((m) => m.role)).toEqual(["user", "assistant"]); // "again" was never written

  const usage = await cliJson(home, ["usage", "--by", "worker"]);
  expect(usage.rows.find((r: { label: string }) => r.label === "priced").cost).toBeCloseTo(0.038, 6);
  const list = await cliJson(home, ["chat", "list", "--worker", "priced"]);
  expect(list.find((c: { id: string }) => c.id === quick).cost).toBeCloseTo(0.019, 6);
  const budgets = await cliJson(home, ["budget", "list"]);
  expect(budgets[0]).toMatchObject({ scope: "worker", targetName: "priced", usd: 0.01 });
  expect(budgets[0].spent).toBeCloseTo(0.038, 6);
}, 90_000);

it("posts done, failed and waiting to a webhook from real turns, retries a 500, and never sends a secret; chat pending --watch is a live inbox", async () => {
  const received: Array<{ body: string; answered: number }> = [];
  const waiters: Array<() => void> = [];
  let failNext = true;
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const answered = failNext ? 500 : 200;
      failNext = false;
      received.push({ body, answered });
      res.writeHead(answered).end();
      for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const delivered = (event: string, chat: string) =>
    received.some((r) => r.answered === 200 && JSON.parse(r.body).event === event && JSON.parse(r.body).chat === chat);
  const until = async (ok: () => boolean) => {
    while (!ok()) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  try {
    const added = await cliJson(home, ["notify", "webhook", "add", `http://127.0.0.1:${port}/hook/tok-XYZ`]);
    expect(added.events).toEqual(["done", "failed", "waiting"]);
    expect(JSON.stringify(await cliJson(home, ["notify", "webhook", "list"]))).not.toContain("tok-XYZ"); // the URL may be a credential

    const secret = "sk-live-SECRET123";
    const chatId = (await client.call(api.chat.create, { worker: "main" })).id;
    const done = await runCli(home, ["chat", "send", chatId, `remember ${secret} for me`, "--wait", "--notify"]);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toContain("\x07"); // --notify rings the bell at the end, on stderr
    expect(done.stdout).not.toContain("\x07");
    await until(() => delivered("done", chatId));
    const [first, second] = received;
    expect(first!.answered).toBe(500);
    expect(JSON.parse(second!.body)).toMatchObject({
      event: "done",
      chat: chatId,
      worker: "main",
      summary: "a turn finished on worker main (" + JSON.parse(second!.body).machine + ")",
    });
    const log = await cliJson(home, ["notify", "log"]);
    expect(log[0]).toMatchObject({ channel: "webhook", event: "done", chatId, status: "delivered", attempts: 2, lastError: null });

    const failed = await runCli(home, ["chat", "send", chatId, `fail with 400 and ${secret}`, "--wait"]);
    expect(failed.code).not.toBe(0);
    await until(() => delivered("failed", chatId));

    const asker = await addSandboxWorker(home, sandbox, "asker", { permission: "ask" });
    const askChat = (await client.call(api.chat.create, { worker: asker.name })).id;
    // The live inbox: empty, then the request the moment it is asked, then empty once answered.
    const inbox = startCli(home, ["chat", "pending", "--watch", "--json"]);
    await inbox.waitForOutput(/^\[\]$/m);
    await client.call(api.chat.send, { chat: askChat, text: `run command echo ${secret} > x.txt` });
    await inbox.waitForOutput(/"kind":"permission"/);
    await until(() => delivered("waiting", askChat));
    const waiting = received.map((r) => JSON.parse(r.body)).find((b) => b.event === "waiting");
    expect(waiting).toMatchObject({ chat: askChat, worker: "asker", summary: expect.stringContaining("a permission request waits for you") });
    const [request] = await cliJson(home, ["chat", "pending"]);
    await cliJson(home, ["chat", "permit", request.id, "reject"]);
    await inbox.waitForOutput(/"kind":"permission"[^\n]*\n\[\]$/m);
    inbox.child.kill("SIGINT");
    await inbox.done;

    for (const r of received) {
      expect(r.body).not.toContain("SECRET123");
      expect(r.body).not.toContain("remember"); // nothing of the prompt, not even the chat's title made from it
    }
  } finally {
    server.close();
  }
}, 120_000);
