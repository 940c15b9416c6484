// Writing a turn's end, and keeping the ends a full or failing disk refused until it takes them:
// they are retried every second, shown to watchers from memory meanwhile, and the chat takes no new
// prompt until its last reply is saved. So a full disk ends a reply with a reason instead of
// leaving it `streaming`, and the daemon carries on. An end refused for any other reason (data
// SQLite will not take, a bug) would be refused forever: the reply ends failed instead, with what
// its batches saved, and the chat is free.
import type { MessageView } from "../../protocol/api/index.js";
import type { ChatId } from "../../protocol/ids.js";
import { storeFault } from "../db/store-fault.js";
import type { Logger } from "../log.js";
import type { InternalRunner } from "../model/context.js";
import { failReply, finishReply, startReply, type ReplyOutcome } from "../model/replies.js";
import type { Turn } from "./turn.js";

/** What a user reads when the store refused a write: the store's own reason, or the error as it came. */
export function storeProblem(err: unknown): string {
  return storeFault(err) ?? `ocfleet could not save to its database (${err instanceof Error ? err.message : String(err)})`;
}

interface End {
  turn: Turn;
  outcome: ReplyOutcome;
  /** The end as OpenCode gave it could not be saved: the reply is ended with what was saved (failReply). */
  fromSaved: boolean;
}

interface UnsavedEnd extends End {
  problem: string;
  completedAt: number;
}

export class TurnEnds {
  private readonly unsaved = new Map<ChatId, UnsavedEnd>();
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: {
      log: Logger;
      runMutation: InternalRunner["runMutation"];
      /** After an end is written (at once, or on a retry). */
      saved(turn: Turn, outcome: ReplyOutcome): void;
      /** When an end that was kept in memory changes what watchers see. */
      changed(chatId: ChatId): void;
      retryMs?: number;
    },
  ) {}

  /** Creates the reply's row if the turn has none saved yet. Throws what the store threw. */
  saveReplyRow(turn: Turn): void {
    if (!turn.reply || turn.replySaved) return;
    this.options.runMutation(startReply, { chatId: turn.chatId, replyTo: turn.userMessageId, model: turn.replyModel, id: turn.reply.id });
    turn.replySaved = true;
  }

  /** Writes the end, or keeps it to write once the store takes it. */
  write(turn: Turn, outcome: ReplyOutcome): void {
    this.attempt({ turn, outcome, fromSaved: false });
  }

  /** Why the chat's last reply is not saved yet, if it is not. */
  pending(chatId: ChatId): string | null {
    return this.unsaved.get(chatId)?.problem ?? null;
  }

  /** An ended reply kept in memory, as watchers see it until it is saved. */
  view(chatId: ChatId, base: (turn: Turn) => MessageView | null): MessageView | null {
    const end = this.unsaved.get(chatId);
    const view = end && base(end.turn);
    if (!end || !view) return null;
    return { ...view, parts: end.outcome.parts, status: end.outcome.status, error: end.outcome.error, completedAt: end.completedAt };
  }

  /** One more try for every kept end (the daemon is stopping); what still fails is recovered at the next start. */
  flushAll(): void {
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    this.retry();
  }

  stop(): void {
    clearInterval(this.retryTimer);
  }

  /** Writes the end; true once saved. */
  private attempt(end: End): boolean {
    try {
      this.saveReplyRow(end.turn);
      const { chatId, messageId, error } = end.outcome;
      if (end.fromSaved && error) this.options.runMutation(failReply, { chatId, messageId, error });
      else this.options.runMutation(finishReply, end.outcome);
    } catch (err) {
      this.refused(end, err);
      return false;
    }
    this.unsaved.delete(end.turn.chatId);
    this.options.saved(end.turn, end.outcome);
    return true;
  }

  /** A full or failing disk: kept and retried. Anything else: the reply ends failed with what it saved. */
  private refused(end: End, err: unknown): void {
    const { chatId } = end.turn;
    const fault = storeFault(err);
    if (fault) {
      const kept = this.unsaved.get(chatId);
      if (!kept) this.options.log.error("could not save the end of a reply; keeping it until the store takes writes again", { chat: chatId, error: fault });
      this.unsaved.set(chatId, { ...end, problem: fault, completedAt: kept?.completedAt ?? Date.now() });
      this.options.changed(chatId);
      this.armRetry();
      return;
    }
    this.unsaved.delete(chatId);
    if (!end.fromSaved) {
      this.options.log.error("could not save the end of a reply; ending it failed, with what it saved as it streamed", { chat: chatId, error: err });
      const why = err instanceof Error ? err.message : String(err);
      const error = { name: "SaveFailed", message: `ocfleet could not save the end of this reply (${why}); what it saved as it streamed is kept` };
      this.attempt({ turn: end.turn, outcome: { ...end.outcome, status: "error", error }, fromSaved: true });
      this.options.changed(chatId);
      return;
    }
    // Not even that was taken: the reply stays as it was saved, and the next start ends it.
    this.options.log.error("could not end a reply whose end could not be saved", { chat: chatId, error: err });
    this.options.changed(chatId);
  }

  private armRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setInterval(() => this.retry(), this.options.retryMs ?? 1000);
    this.retryTimer.unref();
  }

  private retry(): void {
    for (const [chatId, end] of [...this.unsaved]) {
      if (this.attempt(end)) {
        this.options.log.info("saved the end of a reply now that the store takes writes again", { chat: chatId, message: end.outcome.messageId });
        this.options.changed(chatId);
      }
    }
    if (this.unsaved.size === 0) {
      clearInterval(this.retryTimer);
      this.retryTimer = undefined;
    }
  }
}
