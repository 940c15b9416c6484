// Search over stored messages, in an in-process hub: turns are written by the runtime's own write
// path (beginTurn, startReply, saveProgress, finishReply), so what is found is what the index got
// from that path. Ranking, snippets, filters, the query language, access, and what is refused.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, type PartView, type SearchArgs } from "../../src/protocol/api/index.js";
import { FleetError } from "../../src/protocol/errors.js";
import { beginTurn, finishReply, saveProgress, startReply } from "../../src/daemon/model/replies.js";
import { createTestHub, type TestHub } from "../helpers/hub.js";
import { aliceBobAndAdmin, type HubUser, writeTurn } from "../helpers/turns.js";

const DAY = 86_400_000;
let hub: TestHub;
let alice: HubUser;
let bob: HubUser;
let admin: HubUser;

beforeEach(() => {
  hub = createTestHub(Date.parse("2026-03-01T12:00:00Z"));
  ({ alice, bob, admin } = aliceBobAndAdmin(hub));
  hub.worker("api");
  hub.worker("web");
});
afterEach(() => hub.close());

/** A whole turn through the write path: the prompt, then a reply with these parts. */
const turn = (chatId: string, prompt: string, parts: PartView[]) => writeTurn(hub, chatId, { prompt, parts, model: "fake/fake-model" });

const text = (id: string, body: string): PartView => ({ id, kind: "text", text: body });

async function chatOn(caller: HubUser, worker: string, title: string): Promise<string> {
  return (await hub.call(caller, api.chat.create, { worker, title })).id;
}

const find = (caller: HubUser, args: SearchArgs) => hub.call(caller, api.search.messages, args);
const chatsOf = async (caller: HubUser, args: SearchArgs) => (await find(caller, args)).map((h) => h.chatTitle);

describe("chat search", () => {
  it("ranks the message that is most about the words first, and highlights them in the snippet", async () => {
    const once = await chatOn(alice, "api", "once");
    const often = await chatOn(alice, "api", "often");
    turn(once, "tidy the build", [text("p1", "The build passed; one migration was skipped among many other unrelated notes about lunch.")]);
    turn(often, "plan the schema", [text("p1", "Migration first: the migration adds a column, and the migration backfills it.")]);
    const hits = await find(alice, { query: "migration" });
    expect(hits.map((h) => h.chatTitle)).toEqual(["often", "once"]);
    expect(hits[0]!.role).toBe("assistant");
    const matched = hits[1]!.snippet.filter((p) => p.match).map((p) => p.text);
    expect(matched).toEqual(["migration"]);
    expect(hits[1]!.snippet.map((p) => p.text).join("")).toContain("one migration was skipped");
    expect(hits[1]).toMatchObject({ workerName: "api", ownerName: "alice", chatId: once });
  });

  it("finds phrases, prefixes, excludes -words and takes OR; words that look like syntax are just words", async () => {
    const a = await chatOn(alice, "api", "a");
    const b = await chatOn(alice, "api", "b");
    const c = await chatOn(alice, "api", "c");
    turn(a, "x", [text("p1", "the migrations ran in order")]);
    turn(b, "y", [text("p1", "order the migrations, then ran the tests")]);
    turn(c, "z", [text("p1", "c++ AND foo.bar: NOT a problem")]);
    expect(await chatsOf(alice, { query: '"migrations ran"' })).toEqual(["a"]);
    expect((await chatsOf(alice, { query: "migrat*" })).sort()).toEqual(["a", "b"]);
    expect(await chatsOf(alice, { query: "migrations -tests" })).toEqual(["a"]);
    expect((await chatsOf(alice, { query: "problem OR tests" })).sort()).toEqual(["b", "c"]);
    expect(await chatsOf(alice, { query: "foo.bar AND NOT" })).toEqual(["c"]);
    expect(await chatsOf(alice, { query: "c++" })).toEqual(["c"]);
  });

  it("searches reasoning and tool input and output, and filters by role, worker, machine and age", async () => {
    const api1 = await chatOn(alice, "api", "on api");
    const web = await chatOn(alice, "web", "on web");
    turn(api1, "look at the penguin", [
      { id: "r1", kind: "reasoning", text: "thinking about the penguin" },
      {
        id: "t1",
        kind: "tool",
        tool: "bash",
        callId: "c1",
        status: "completed",
        title: "list",
        input: { command: "grep penguin zoo.txt" },
        output: "penguin: 3",
        error: null,
      },
      text("p1", "three of them"),
    ]);
    hub.clock.now += 10 * DAY;
    turn(web, "a penguin again", [text("p1", "ok")]);
    expect((await find(alice, { query: "penguin", role: "tool" })).map((h) => h.partId)).toEqual(["t1"]);
    expect((await find(alice, { query: "zoo.txt" })).map((h) => h.role)).toEqual(["tool"]);
    expect((await find(alice, { query: "thinking" })).map((h) => h.role)).toEqual(["assistant"]);
    expect(await chatsOf(alice, { query: "penguin", role: "user" })).toEqual(["on web", "on api"]);
    expect(await chatsOf(alice, { query: "penguin", worker: "web" })).toEqual(["on web"]);
    expect(await chatsOf(alice, { query: "penguin", since: "7d" })).toEqual(["on web"]);
    const machine = (hub.db.prepare("SELECT name FROM machines").get() as { name: string }).name;
    expect(await chatsOf(alice, { query: "penguin", machine, role: "user" })).toEqual(["on web", "on api"]);
    expect(await chatsOf(alice, { query: "penguin", machine: "elsewhere" })).toEqual([]);
    expect(await find(alice, { query: "penguin", limit: 2 })).toHaveLength(2);
  });

  it("never finds another user's text; an admin finds it only with all", async () => {
    const mine = await chatOn(alice, "api", "alice's secret plan");
    turn(mine, "the password is hunter2", [text("p1", "noted hunter2")]);
    expect(await find(bob, { query: "hunter2" })).toEqual([]);
    expect(await find(bob, { query: "hunter2", all: true })).toEqual([]);
    expect(await find(admin, { query: "hunter2" })).toEqual([]);
    expect((await find(admin, { query: "hunter2", all: true })).map((h) => h.ownerName)).toEqual(["alice", "alice"]);
  });

  it("finds a reply only once it is final, and forgets text a part no longer has", async () => {
    const chatId = await chatOn(alice, "api", "streaming");
    const { messageId } = hub.dispatcher.runInternalMutation(beginTurn, { chatId, text: "go", model: null });
    const reply = hub.dispatcher.runInternalMutation(startReply, { chatId, replyTo: messageId, model: null });
    const running: PartView = {
      id: "t1",
      kind: "tool",
      tool: "bash",
      callId: "c",
      status: "running",
      title: null,
      input: { command: "make walrus" },
      output: null,
      error: null,
    };
    hub.dispatcher.runInternalMutation(saveProgress, { messageId: reply.id, chunks: [], parts: [{ seq: 1, part: running }] });
    expect(await find(alice, { query: "walrus" })).toEqual([]);
    const done: PartView = { ...running, input: { command: "make seal" }, status: "completed", output: "built" };
    hub.dispatcher.runInternalMutation(finishReply, {
      chatId,
      messageId: reply.id,
      status: "completed",
      parts: [done],
      model: null,
      tokens: null,
      cost: null,
      error: null,
      opencodeMessageIds: [],
    });
    expect(await find(alice, { query: "walrus" })).toEqual([]);
    expect((await find(alice, { query: "seal" })).map((h) => h.messageId)).toEqual([reply.id]);
    // The index follows the rows: a deleted chat's text cannot be found, and the index stays sound.
    hub.db.prepare("DELETE FROM chats WHERE id = ?").run(chatId);
    expect(await find(alice, { query: "seal" })).toEqual([]);
    expect(() => hub.db.prepare("INSERT INTO message_search (message_search, rank) VALUES ('integrity-check', 1)").run()).not.toThrow();
  });

  it("answers at once on a part megabytes long full of the word, with a snippet around its first match (FTS5's snippet took minutes)", async () => {
    const long = await chatOn(alice, "api", "long");
    const body = `Intro about nothing much at all, then the lighthouse keeper writes on. ${"the keeper writes on ".repeat(100_000)}`; // 2 MB
    turn(long, "write a lot", [text("p1", body)]);
    const hits = await find(alice, { query: "keeper" });
    expect(hits.map((h) => h.chatTitle)).toEqual(["long"]);
    const snippet = hits[0]!.snippet;
    expect(snippet.filter((p) => p.match).map((p) => p.text)).toContain("keeper");
    const shown = snippet.map((p) => p.text).join("");
    expect(shown.startsWith("Intro about nothing")).toBe(true); // the first match is near the start: no cut before
    expect(shown.endsWith("…")).toBe(true);
    expect(shown.length).toBeLessThan(200);
  });

  it("marks the words, prefixes and phrases of the query in a long part's snippet, and cuts it at words", async () => {
    const long = await chatOn(alice, "api", "long");
    const filler = "nothing to see here. ".repeat(200); // 4 KB: past what FTS5's snippet() is asked for
    turn(long, "x", [text("p1", `${filler}Then MIGRATIONS ran: the migrate step, a "schema change" and more. ${filler}`)]);
    for (const [query, marked] of [
      ["migrations", ["MIGRATIONS"]],
      ["migrat*", ["MIGRATIONS", "migrate"]],
      ['"schema change"', ["schema", "change"]],
    ] as const) {
      const [hit] = await find(alice, { query });
      const shown = hit!.snippet.map((p) => p.text).join("");
      expect(
        hit!.snippet.filter((p) => p.match).map((p) => p.text),
        query,
      ).toEqual(marked);
      expect(shown, query).toMatch(/^…(here|see|to|nothing)\b.*\b(here|see|to|nothing)…$/);
      expect(shown.length, query).toBeLessThan(200);
    }
  });

  it("refuses a query it cannot read with a usage error naming the query, not an SQL error", async () => {
    for (const query of ['"unclosed', "-only", "*", "OR", "a OR", "   "]) {
      const err = await find(alice, { query }).catch((e: unknown) => e);
      expect(err, query).toBeInstanceOf(FleetError);
      expect((err as FleetError).code, query).toBe("invalid_argument");
      expect((err as FleetError).data?.field, query).toBe("query");
      expect((err as FleetError).message, query).not.toMatch(/sqlite|fts5|syntax/i);
    }
    const since = await find(alice, { query: "x", since: "7 days" }).catch((e: unknown) => e);
    expect((since as FleetError).data?.field).toBe("since");
  });
});
