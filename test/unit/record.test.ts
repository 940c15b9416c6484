// Merging OpenCode's stored record of a turn with what its events gave: the pure part of reading a
// reply back. (test/e2e/event-stream.test.ts reads back from a real OpenCode after a real break.)
import { describe, expect, it } from "vitest";
import type { OpencodeMessage, OpencodeMessageWithParts, OpencodePart } from "../../src/daemon/agent/opencode.js";
import { mergeReplyRecord } from "../../src/daemon/chat/record.js";
import type { PartView } from "../../src/protocol/api/index.js";

function message(id: string, role: "user" | "assistant", createdAt: number, parentId: string | null = null): OpencodeMessage {
  return {
    id,
    sessionId: "ses_1",
    role,
    parentId,
    providerId: null,
    modelId: null,
    tokens: null,
    cost: null,
    createdAt,
    completedAt: null,
    finish: null,
    error: null,
  };
}
const text = (messageId: string, id: string, value: string): OpencodePart => ({ id, messageId, kind: "text", text: value });
const entry = (m: OpencodeMessage, ...parts: OpencodePart[]): OpencodeMessageWithParts => ({ message: m, parts });

// An earlier turn (u0 → a0), then ours (u1 → a1, a2: a tool step and the answer).
const record = [
  entry(message("u0", "user", 1000), text("u0", "p-u0", "earlier question")),
  entry(message("a0", "assistant", 1100, "u0"), text("a0", "p-a0", "earlier answer")),
  entry(message("u1", "user", 50_000), text("u1", "p-u1", "our question")),
  entry(message("a1", "assistant", 50_100, "u1"), { id: "p-step", messageId: "a1", kind: "other", type: "step-start" }, text("a1", "p-a1", "let me look")),
  entry(message("a2", "assistant", 50_200, "u1"), text("a2", "p-a2", "the answer, whole")),
];

describe("merging OpenCode's record of a reply", () => {
  it("finds our user message by time when the events never named it, and takes only its reply", () => {
    const merged = mergeReplyRecord({ opencodeUserMessageId: null, startedAt: 50_500, parts: new Map() }, record);
    expect(merged.userMessageId).toBe("u1");
    expect(merged.messages.map((m) => m.id)).toEqual(["a1", "a2"]);
    expect([...merged.parts.keys()]).toEqual(["p-a1", "p-a2"]);
    expect(merged.changed).toEqual(["p-a1", "p-a2"]);
  });

  it("keeps OpenCode's order, fills a text the events lost, and keeps a text the deltas took further", () => {
    const ours = new Map<string, PartView>([
      ["p-a2", { id: "p-a2", kind: "text", text: "the answer, whole, and then some" }],
      ["p-old", { id: "p-old", kind: "text", text: "from a message older than the record" }],
    ]);
    const merged = mergeReplyRecord({ opencodeUserMessageId: "u1", startedAt: 50_000, parts: ours }, record);
    expect([...merged.parts.keys()]).toEqual(["p-old", "p-a1", "p-a2"]);
    expect(merged.parts.get("p-a1")).toEqual({ id: "p-a1", kind: "text", text: "let me look" });
    expect(merged.parts.get("p-a2")).toEqual(ours.get("p-a2"));
    expect(merged.changed).toEqual(["p-a1"]);
  });

  it("changes nothing when the events gave everything", () => {
    const ours = new Map<string, PartView>([
      ["p-a1", { id: "p-a1", kind: "text", text: "let me look" }],
      ["p-a2", { id: "p-a2", kind: "text", text: "the answer, whole" }],
    ]);
    const merged = mergeReplyRecord({ opencodeUserMessageId: "u1", startedAt: 50_000, parts: ours }, record);
    expect(merged.changed).toEqual([]);
    expect([...merged.parts.values()]).toEqual([...ours.values()]);
  });

  it("shows no reply when our user message is not in the record yet", () => {
    const merged = mergeReplyRecord({ opencodeUserMessageId: null, startedAt: 90_000, parts: new Map() }, record);
    expect(merged).toMatchObject({ userMessageId: null, messages: [], changed: [] });
    expect(merged.parts.size).toBe(0);
  });
});
