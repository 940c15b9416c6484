// A streaming reply's writes to SQLite: its row once the reply starts, then its text deltas and
// changed parts in batches (every flushMs, or at once past FLUSH_BYTES), each batch in one
// transaction. A write the store refuses (a full disk) is handed back instead of thrown.
import type { OpencodeMessage } from "../agent/opencode.js";
import { newId } from "../crypto.js";
import type { InternalRunner } from "../model/context.js";
import { saveProgress } from "../model/replies.js";
import type { TurnEnds } from "./ending.js";
import type { Turn } from "./turn.js";

/** Pending text past this size is written at once rather than at the next timer. */
const FLUSH_BYTES = 16 * 1024;

export class ReplyWrites {
  constructor(
    private readonly options: {
      runMutation: InternalRunner["runMutation"];
      ends: TurnEnds;
      /** Longest a delta waits in memory before it is written. */
      flushMs: number;
      /** The store refused one of the turn's writes. */
      refused(turn: Turn, err: unknown): void;
    },
  ) {}

  /** Gives the turn its reply, and saves the reply's row, at the first message or part that belongs to it. */
  ensureReply(turn: Turn, message?: OpencodeMessage): void {
    if (turn.reply) return;
    turn.replyModel = message?.providerId && message.modelId ? `${message.providerId}/${message.modelId}` : null;
    turn.reply = { id: newId("message"), createdAt: Date.now() };
    this.save(turn, () => this.options.ends.saveReplyRow(turn));
  }

  /** Text was added to the turn's pending chunks: written in the next batch, or now if enough waits. */
  textAdded(turn: Turn): void {
    if (turn.pendingBytes >= FLUSH_BYTES) this.flush(turn);
    else this.schedule(turn);
  }

  /** Something is pending (a chunk, a changed part): the next batch writes it. */
  schedule(turn: Turn): void {
    if (turn.flushTimer || turn.finished) return;
    turn.flushTimer = setTimeout(() => this.flush(turn), this.options.flushMs);
  }

  /** No more batches for this turn (it is ending: its end holds every part whole). */
  cancel(turn: Turn): void {
    clearTimeout(turn.flushTimer);
    turn.flushTimer = undefined;
  }

  /** Writes the batch of deltas and changed parts since the last write, in one transaction. */
  flush(turn: Turn): void {
    this.cancel(turn);
    if (turn.finished || !turn.reply || (turn.pendingChunks.length === 0 && turn.dirtyParts.size === 0)) return;
    const order = [...turn.parts.keys()];
    const parts = [...turn.dirtyParts].map((id) => ({ seq: order.indexOf(id) + 1, part: turn.parts.get(id)! }));
    const chunks = turn.pendingChunks;
    turn.pendingChunks = [];
    turn.pendingBytes = 0;
    turn.dirtyParts.clear();
    const messageId = turn.reply.id;
    this.save(turn, () => {
      this.options.ends.saveReplyRow(turn);
      this.options.runMutation(saveProgress, { messageId, chunks, parts });
    });
  }

  /** Runs one of a turn's writes; a write the store refuses goes to `refused` instead of throwing. */
  private save(turn: Turn, write: () => void): void {
    try {
      write();
    } catch (err) {
      this.options.refused(turn, err);
    }
  }
}
