// How a turn's end reaches the store when the store will not take it as it is. A full disk is kept
// and retried (test/e2e/faults-disk.test.ts); here, what no retry can mend: an end refused for
// another reason ends the reply failed with what its batches saved, and a part SQLite's JSON
// functions cannot read (nested past 1000 levels) stays out of search without refusing the write
// or the next start. The real store and runner (an in-process hub) and the real TurnEnds.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { api, type PartView } from "../../src/protocol/api/index.js";
import type { ChatId, MessageId } from "../../src/protocol/ids.js";
import { TurnEnds } from "../../src/daemon/chat/ending.js";
import { newTurn, type Turn } from "../../src/daemon/chat/turn.js";
import { newId } from "../../src/daemon/crypto.js";
import { createLogger } from "../../src/daemon/log.js";
import type { InternalMutation } from "../../src/daemon/model/context.js";
import { beginTurn, type ReplyOutcome, recoverInterrupted, saveProgress } from "../../src/daemon/model/replies.js";
import { createTestHub, type TestHub } from "../helpers/hub.js";

let hub: TestHub;
let dir: string;
let workerId: string;
let chatId: ChatId;
const run = <A, R>(def: InternalMutation<A, R>, args: A): R => hub.dispatcher.runInternalMutation(def, args);

beforeEach(async () => {
  hub = createTestHub(Date.now());
  const olga = hub.user("olga");
  workerId = hub.worker("api");
  chatId = (await hub.call(olga, api.chat.create, { worker: "api", title: "fix the test" })).id;
  dir = mkdtempSync(join(tmpdir(), "ocf-ends-"));
});

afterEach(() => {
  hub.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The real TurnEnds on the hub's store, telling `saved` of every end written. */
const turnEnds = (saved: (turn: Turn, outcome: ReplyOutcome) => void = () => {}) =>
  new TurnEnds({ log: createLogger({ file: join(dir, "ends.log"), echo: false }), runMutation: run, saved, changed: () => {} });

/** A turn whose reply streamed "greetings, " (a batch of its text was saved) and is now ending. */
function streamedTurn(): Turn {
  const { messageId } = run(beginTurn, { chatId, text: "say hello", model: null });
  const turn = newTurn(chatId, workerId, "ses_1", messageId as MessageId);
  turn.reply = { id: newId("message"), createdAt: Date.now() };
  return turn;
}

function outcome(turn: Turn, parts: PartView[]): ReplyOutcome {
  return { chatId, messageId: turn.reply!.id, status: "completed", parts, model: null, tokens: null, cost: null, error: null, opencodeMessageIds: [] };
}

/** A tool call whose input is nested `depth` levels deep. */
function deepTool(id: string, depth: number): PartView {
  let input: Record<string, unknown> = { command: "echo deep-input" };
  for (let i = 0; i < depth; i++) input = { a: input };
  return { id, kind: "tool", tool: "bash", callId: "call_1", status: "completed", title: null, input, output: "deep-output", error: null } as PartView;
}

const reply = (turn: Turn) =>
  hub.db.prepare("SELECT status, error_name, error_message FROM messages WHERE id = ?").get(turn.reply!.id) as {
    status: string;
    error_name: string | null;
    error_message: string | null;
  };
const parts = (turn: Turn) =>
  hub.db.prepare("SELECT part_id, data, indexed FROM message_parts WHERE message_id = ? ORDER BY seq").all(turn.reply!.id) as {
    part_id: string;
    data: string;
    indexed: number;
  }[];
const busy = () => (hub.db.prepare("SELECT busy FROM chats WHERE id = ?").get(chatId) as { busy: number }).busy;
const found = (words: string) => hub.db.prepare("SELECT count(*) AS n FROM message_search WHERE message_search MATCH ?").pluck().get(words);

it("ends a reply failed, with what it saved as it streamed, when the store refuses its end for a reason no retry mends; the chat takes the next prompt", () => {
  const savedEnds: ReplyOutcome[] = [];
  const ends = turnEnds((_t, o) => savedEnds.push(o));
  const turn = streamedTurn();
  ends.saveReplyRow(turn);
  run(saveProgress, { messageId: turn.reply!.id, chunks: [{ partId: "prt_text", kind: "text", text: "greetings, " }], parts: [] });

  // A value JSON cannot write stands for any end the store will never take (a bug, data it refuses).
  const unwritable = { ...deepTool("prt_tool", 1), input: { count: 1n } } as unknown as PartView;
  ends.write(turn, outcome(turn, [{ id: "prt_text", kind: "text", text: "greetings, world" }, unwritable]));
  ends.stop();

  expect(ends.pending(chatId)).toBeNull(); // not kept for a retry that would fail forever
  expect(reply(turn)).toMatchObject({ status: "error", error_name: "SaveFailed" });
  expect(reply(turn).error_message).toMatch(/^ocfleet could not save the end of this reply \(.*BigInt.*\); what it saved as it streamed is kept$/);
  expect(parts(turn).map((p) => [p.part_id, JSON.parse(p.data).text])).toEqual([["prt_text", "greetings, "]]);
  expect(found("greetings")).toBe(1);
  expect(busy()).toBe(0);
  expect(savedEnds.map((o) => o.status)).toEqual(["error"]); // modules hear the turn ended
  expect(() => run(beginTurn, { chatId, text: "again", model: null })).not.toThrow();
});

it("saves a reply end holding a part SQLite's JSON cannot read: the part is kept and shown, the rest is found by search", () => {
  const turn = streamedTurn();
  const ends = turnEnds();
  ends.write(turn, outcome(turn, [{ id: "prt_text", kind: "text", text: "findable words" }, deepTool("prt_tool", 1500)]));
  ends.stop();

  expect(ends.pending(chatId)).toBeNull();
  expect(reply(turn).status).toBe("completed");
  expect(parts(turn).map((p) => [p.part_id, p.indexed])).toEqual([
    ["prt_text", 1],
    ["prt_tool", 0],
  ]);
  expect(found("findable")).toBe(1);
  expect(busy()).toBe(0);
});

it("starts on a store whose interrupted reply holds such a part (an older daemon saved it as it streamed)", () => {
  const turn = streamedTurn();
  turnEnds().saveReplyRow(turn);
  run(saveProgress, {
    messageId: turn.reply!.id,
    chunks: [{ partId: "prt_text", kind: "text", text: "half a reply" }],
    parts: [{ seq: 2, part: deepTool("prt_tool", 1500) }],
  });

  expect(run(recoverInterrupted, {})).toBe(1);
  expect(reply(turn).status).toBe("interrupted");
  expect(found("half")).toBe(1);
  expect(busy()).toBe(0);
});
