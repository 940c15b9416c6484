// OpenCode's message, part and delta events applied to a turn's reply in memory: which messages
// are the turn's (those answering our user message, matched by id), how a part or a delta grows
// the reply, which completion ends the turn, and OpenCode's record of the turn read back. Watchers
// hear each change at once; the store gets it through the turn's batched writes (chat/writes.ts).
import type { PartView } from "../../protocol/api/index.js";
import type { OpencodeMessage, OpencodeMessageWithParts, OpencodePart } from "../agent/opencode.js";
import { mergeReplyRecord } from "./record.js";
import type { Turn } from "./turn.js";
import type { ReplyWrites } from "./writes.js";

/** What applying an event may set off beyond the turn's own state. */
export interface ReplyEffects {
  writes: ReplyWrites;
  /** The turn's reply in memory changed: the stream query's watchers are told. */
  changed(turn: Turn): void;
  /** OpenCode says the turn is over: read its record back, then end it. */
  settle(turn: Turn): void;
}

export function messageUpdated(turn: Turn, message: OpencodeMessage, effects: ReplyEffects): void {
  if (message.role === "user") {
    // Ours is the first user message that OpenCode records after the send.
    if (!turn.opencodeUserMessageId && (message.createdAt ?? Date.now()) >= turn.startedAt - 2000) turn.opencodeUserMessageId = message.id;
    return;
  }
  if (!turn.opencodeUserMessageId) turn.opencodeUserMessageId = message.parentId;
  if (message.parentId !== turn.opencodeUserMessageId) return; // another turn's
  effects.writes.ensureReply(turn, message);
  turn.opencodeMessages.set(message.id, message);
  if (message.error) {
    if (message.error.name === "MessageAbortedError") turn.aborted = true;
    else turn.error ??= message.error;
  }
  effects.changed(turn);
  // A step that ended in tool calls is followed by another; any other completion ends the turn.
  if (message.completedAt !== null && (message.finish !== "tool-calls" || message.error)) effects.settle(turn);
}

export function partUpdated(turn: Turn, part: OpencodePart, effects: ReplyEffects): void {
  if (part.kind === "other" || !isReplyPart(turn, part.messageId)) return;
  effects.writes.ensureReply(turn);
  const { messageId: _messageId, ...view } = part;
  const current = turn.parts.get(part.id);
  if (current && (view.kind === "text" || view.kind === "reasoning") && current.kind === view.kind && current.text.length > view.text.length) {
    return; // deltas already took it further than this snapshot
  }
  turn.parts.set(part.id, view as PartView);
  if (view.kind === "tool" || view.kind === "patch" || view.kind === "file") {
    turn.dirtyParts.add(part.id);
    effects.writes.schedule(turn);
  }
  effects.changed(turn);
}

export function partDelta(turn: Turn, messageId: string, partId: string, field: string, delta: string, effects: ReplyEffects): void {
  if (field !== "text" || !delta || !isReplyPart(turn, messageId)) return;
  effects.writes.ensureReply(turn);
  const current = turn.parts.get(partId);
  const kind = current?.kind === "reasoning" ? "reasoning" : "text";
  const text = (current && "text" in current ? current.text : "") + delta;
  turn.parts.set(partId, { id: partId, kind, text });
  turn.pendingChunks.push({ partId, kind, text: delta });
  turn.pendingBytes += delta.length;
  // Watchers get the delta on the next tick; the database gets it in the next batch.
  effects.changed(turn);
  effects.writes.textAdded(turn);
}

/**
 * OpenCode's stored messages of the session, merged with what the events gave (chat/record.ts),
 * become the reply. Returns how many parts the events had missed or left behind.
 */
export function recordReadBack(turn: Turn, messages: OpencodeMessageWithParts[], effects: ReplyEffects): number {
  const record = mergeReplyRecord(turn, messages);
  turn.opencodeUserMessageId ??= record.userMessageId;
  if (record.messages[0]) effects.writes.ensureReply(turn, record.messages[0]);
  turn.parts = record.parts;
  if (record.changed.length > 0) {
    for (const id of record.changed) turn.dirtyParts.add(id);
    effects.changed(turn);
    effects.writes.schedule(turn);
  }
  for (const message of record.messages) messageUpdated(turn, message, effects);
  return record.changed.length;
}

/** Whether a part or delta belongs to this turn's reply (not to the user's own message). */
function isReplyPart(turn: Turn, messageId: string): boolean {
  if (turn.opencodeMessages.has(messageId)) return true;
  if (messageId === turn.opencodeUserMessageId || !turn.opencodeUserMessageId) return false;
  return true;
}
