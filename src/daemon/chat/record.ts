// OpenCode's own record of a turn, merged with what its events gave us. Events can be lost (a
// break in the stream, a slow reader); OpenCode's stored messages cannot, so a turn reads them
// back when it ends and after a break, and this decides what the reply then is.
import type { PartView } from "../../protocol/api/index.js";
import type { OpencodeMessage, OpencodeMessageWithParts } from "../agent/opencode.js";

/** Clocks may differ a little between the daemon and OpenCode (another machine, later). */
const CLOCK_SKEW_MS = 2000;

export interface ReplyRecord {
  /** OpenCode's id for the turn's user message, if the record shows it. */
  userMessageId: string | null;
  /** The reply's assistant messages, oldest first. */
  messages: OpencodeMessage[];
  /** Every part of the reply in OpenCode's order; ours where the events took a text further. */
  parts: Map<string, PartView>;
  /** Ids of the parts that the record changed or added. */
  changed: string[];
}

/**
 * Merges a session's recent messages into what a turn knows. Our user message is the one the
 * events named, else the last user message since the turn began (a chat runs one turn at a time).
 */
export function mergeReplyRecord(
  known: { opencodeUserMessageId: string | null; startedAt: number; parts: ReadonlyMap<string, PartView> },
  record: OpencodeMessageWithParts[],
): ReplyRecord {
  const userMessageId =
    known.opencodeUserMessageId ??
    record.findLast(({ message }) => message.role === "user" && (message.createdAt ?? Number.POSITIVE_INFINITY) >= known.startedAt - CLOCK_SKEW_MS)?.message
      .id ??
    null;
  const reply = userMessageId ? record.filter(({ message }) => message.role === "assistant" && message.parentId === userMessageId) : [];
  const parts = new Map<string, PartView>();
  const changed: string[] = [];
  for (const { parts: recorded } of reply) {
    for (const { messageId: _messageId, ...part } of recorded) {
      if (part.kind === "other") continue;
      const ours = known.parts.get(part.id);
      if (ours && isFurther(ours, part as PartView)) {
        parts.set(part.id, ours);
      } else {
        parts.set(part.id, part as PartView);
        if (!ours || !sameContent(ours, part as PartView)) changed.push(part.id);
      }
    }
  }
  // Parts the record does not show (older than the messages read) stay, ahead of the rest.
  const missing = [...known.parts].filter(([id]) => !parts.has(id));
  return { userMessageId, messages: reply.map(({ message }) => message), parts: new Map([...missing, ...parts]), changed };
}

/** A text the deltas took further than OpenCode's stored copy (it stores text at the part's end). */
function isFurther(ours: PartView, recorded: PartView): boolean {
  return (ours.kind === "text" || ours.kind === "reasoning") && ours.kind === recorded.kind && ours.text.length > recorded.text.length;
}

/** Whether two views of a part show the same thing (field order and ids aside). */
function sameContent(a: PartView, b: PartView): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "text":
    case "reasoning":
      return a.text === (b as typeof a).text;
    case "tool": {
      const t = b as typeof a;
      return a.status === t.status && a.output === t.output && a.error === t.error && a.title === t.title;
    }
    case "patch":
      return a.files.join("\n") === (b as typeof a).files.join("\n");
    case "file":
      return a.filename === (b as typeof a).filename && a.mime === (b as typeof a).mime;
  }
}
