// Formats shared by the CLI and the TUI, so both front ends say the same thing the same way.
import type { MessageView } from "../protocol/api/index.js";
import { sanitizeInline } from "./sanitize.js";

/** A duration as a reply's footer shows it: "420 ms", "1.0 s", "75.3 s". */
export function formatReplyDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export interface ReplyFooter {
  /** "✗ reason · model · 12 in / 7 out · $0.0012 · 1.0 s" (without the status for a reply that completed). */
  text: string;
  /** How the front end colours it: red for an error, yellow for stopped or interrupted, dim otherwise. */
  tone?: "red" | "yellow";
}

/** The line under a finished reply: how it ended, the model, tokens, cost and time. Safe to print. */
export function formatReplyFooter(message: MessageView): ReplyFooter {
  const bits: string[] = [];
  if (message.model) bits.push(sanitizeInline(message.model));
  if (message.tokens) bits.push(`${message.tokens.input} in / ${message.tokens.output} out`);
  if (message.cost !== null && message.cost > 0) bits.push(`$${message.cost.toFixed(4)}`);
  if (message.completedAt) bits.push(formatReplyDuration(message.completedAt - message.createdAt));
  const reason = sanitizeInline(message.error?.message ?? "");
  const status: ReplyFooter | null =
    message.status === "error"
      ? { text: `✗ ${reason || "failed"}`, tone: "red" }
      : message.status === "aborted"
        ? { text: "■ stopped", tone: "yellow" }
        : message.status === "interrupted"
          ? { text: `⚠ interrupted: ${reason}`, tone: "yellow" }
          : null;
  return status ? { text: [status.text, ...bits].join(" · "), tone: status.tone! } : { text: bits.join(" · ") };
}

/**
 * What a chat's turn is doing, as both front ends say it: a turn that waits on a permission or a
 * question is not answering, it is waiting for the user; null when no turn runs and nothing waits.
 */
export function turnActivity(chat: { busy: boolean; pendingRequests: number }): string | null {
  if (chat.pendingRequests > 0) return `${chat.pendingRequests} waiting for you`;
  return chat.busy ? "answering" : null;
}
