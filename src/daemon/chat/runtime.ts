// The chat runtime: turns in progress, from the user's message to the saved reply. It routes
// OpenCode's events for a chat's session to its turn (chat/reply-events.ts grows the reply in
// memory, chat/writes.ts batches it to SQLite), reads the turn's record back when OpenCode says it
// is over, and ends it: completed, aborted, failed, interrupted, stalled or refused by the store.
import type { MessageView } from "../../protocol/api/index.js";
import type { ChatId, MessageId } from "../../protocol/ids.js";
import type { WorkerRuntime } from "../agent/link.js";
import type { OpencodeEvent } from "../agent/opencode.js";
import type { Fleet } from "../fleet.js";
import { reconcileWorker } from "./reconcile.js";
import type { Logger } from "../log.js";
import type { InternalRunner } from "../model/context.js";
import { withDeadline } from "../../platform/deadline.js";
import { newTurn, streamingView, turnFigures, type Turn } from "./turn.js";
import { storeProblem, TurnEnds } from "./ending.js";
import { newId } from "../crypto.js";
import { isRequestEvent, recordRequestEvent } from "./requests.js";
import { DEFAULT_STALL_MS, stalledTurns, stallMessage } from "./stall.js";
import { chatsWithSessions, markInactive, recoverInterrupted, setRetry, type ReplyOutcome } from "../model/replies.js";
import { TABLES, type Table } from "../model/tables.js";
import { messageUpdated, partDelta, partUpdated, recordReadBack, type ReplyEffects } from "./reply-events.js";
import { ReplyWrites } from "./writes.js";

export interface ChatRuntimeOptions {
  log: Logger;
  fleet: Fleet;
  runMutation: InternalRunner["runMutation"];
  runQuery: InternalRunner["runQuery"];
  /** Tells live queries that a turn's in-memory state changed. */
  changed(table: Table, key: string): void;
  /** Retries of a failing provider before the turn is aborted. */
  maxRetries: number;
  /** Idle time after which a chat goes inactive. */
  inactiveAfterMs: number;
  /** Longest a delta waits in memory before it is written. */
  flushMs?: number;
  /** How often a reply's end that the store refused (a full disk) is tried again. */
  storeRetryMs?: number;
  /** A turn that hears nothing from OpenCode this long, with no tool at work and no question waiting, is stopped (chat/stall.ts). */
  stallMs?: number;
}

/** How a turn ended, for modules that act on it (scheduled prompts record their runs' outcome). */
export interface FinishedTurn {
  chatId: ChatId;
  /** The user message that started the turn. */
  userMessageId: MessageId;
  replyId: MessageId;
  status: ReplyOutcome["status"];
  error: { name: string; message: string } | null;
}

/** A new permission or question request, for modules that act on it (notifications). */
export interface AskedRequest {
  chatId: ChatId;
  kind: "permission" | "question";
}

/** How many of a session's latest messages a turn reads back, and how long it waits for them. */
const READ_BACK_MESSAGES = 100;
const READ_BACK_TIMEOUT_MS = 3000;

export class ChatRuntime {
  private readonly turns = new Map<ChatId, Turn>();
  /** "workerId sessionId" → chat. */
  private readonly sessions = new Map<string, ChatId>();
  private sweep: NodeJS.Timeout | undefined;
  private stallSweep: NodeJS.Timeout | undefined;
  private readonly finishedListeners = new Set<(turn: FinishedTurn) => void>();
  private readonly askedListeners = new Set<(asked: AskedRequest) => void>();
  private readonly ends: TurnEnds;
  private readonly writes: ReplyWrites;
  private readonly effects: ReplyEffects;

  constructor(private readonly options: ChatRuntimeOptions) {
    this.ends = new TurnEnds({
      log: options.log,
      runMutation: options.runMutation,
      saved: (turn, outcome) => this.announce(turn, outcome),
      changed: (chatId) => options.changed(TABLES.stream, chatId),
      ...(options.storeRetryMs ? { retryMs: options.storeRetryMs } : {}),
    });
    this.writes = new ReplyWrites({
      runMutation: options.runMutation,
      ends: this.ends,
      flushMs: options.flushMs ?? 50,
      refused: (turn, err) => this.storeFailed(turn, err),
    });
    this.effects = {
      writes: this.writes,
      changed: (turn) => options.changed(TABLES.stream, turn.chatId),
      settle: (turn) => this.settle(turn),
    };
    options.fleet.onWorkerEvent((workerId, report) => this.handle(workerId, report.event));
    options.fleet.onWorkerRuntime((workerId, runtime) => this.workerChanged(workerId, runtime));
    // A machine that comes back may have finished replies the hub gave up on: read them back (chat/reconcile.ts).
    options.fleet.onMachineLinked((link, workerIds) => {
      for (const workerId of workerIds) {
        reconcileWorker(options, link, workerId).then(
          (n) => n > 0 && options.log.info("reconciled replies from the machine's record", { worker: workerId, replies: n }),
          (err) => options.log.warn("could not reconcile interrupted replies", { worker: workerId, error: String(err) }),
        );
      }
    });
  }

  /** At start: finishes what an unclean stop left half-done, and learns which session is which chat. */
  recover(): void {
    const interrupted = this.options.runMutation(recoverInterrupted, {});
    if (interrupted > 0) this.options.log.info("marked replies interrupted by the last stop", { count: interrupted });
    for (const row of this.options.runQuery(chatsWithSessions, {})) this.sessions.set(`${row.worker_id} ${row.opencode_session_id}`, row.id as ChatId);
  }

  startSweeps(): void {
    const every = Math.max(1000, Math.min(30_000, this.options.inactiveAfterMs / 4));
    this.sweep = setInterval(() => {
      try {
        this.options.runMutation(markInactive, { idleSince: Date.now() - this.options.inactiveAfterMs });
      } catch (err) {
        this.options.log.error("inactivity sweep failed", { error: err });
      }
    }, every);
    this.sweep.unref();
    const stallMs = this.options.stallMs ?? DEFAULT_STALL_MS;
    this.stallSweep = setInterval(() => this.stopStalled(stallMs), Math.max(250, Math.min(30_000, stallMs / 4)));
    this.stallSweep.unref();
  }

  /** Stops the turns that went silent (a provider that hangs mid-stream): OpenCode is told to abort, the reply ends with the reason. */
  private stopStalled(stallMs: number): void {
    try {
      for (const turn of stalledTurns(this.turns.values(), Date.now(), stallMs, (def, args) => this.options.runQuery(def, args))) {
        this.options.log.warn("stopping a reply that heard nothing from OpenCode", { chat: turn.chatId, silentMs: Date.now() - turn.lastHeardAt! });
        turn.error = { name: "Stalled", message: stallMessage(stallMs) };
        this.abortThenFinish(turn, "could not abort a stalled turn");
      }
    } catch (err) {
      this.options.log.error("stall sweep failed", { error: err });
    }
  }

  /** Tells OpenCode to stop the turn's session, then ends the turn (whether or not OpenCode answered). */
  private abortThenFinish(turn: Turn, failure: string): void {
    const sessionId = turn.sessionId;
    void Promise.resolve()
      .then(() => (sessionId ? this.options.fleet.linkForWorker(turn.workerId).command("session.abort", { workerId: turn.workerId, sessionId }) : undefined))
      .catch((err: unknown) => this.options.log.warn(failure, { chat: turn.chatId, error: String(err) }))
      .finally(() => this.finish(turn));
  }

  /** Routes a session's events to the chat, and to its running turn. */
  registerSession(chatId: ChatId, workerId: string, sessionId: string): void {
    this.sessions.set(`${workerId} ${sessionId}`, chatId);
    const turn = this.turns.get(chatId);
    if (turn) turn.sessionId = sessionId;
  }

  /** Calls `listener` after each turn ends and its reply is written; returns a function that stops it. */
  onTurnFinished(listener: (turn: FinishedTurn) => void): () => void {
    this.finishedListeners.add(listener);
    return () => this.finishedListeners.delete(listener);
  }

  /** Calls `listener` once for each new permission or question request OpenCode raises in a chat. */
  onRequestAsked(listener: (asked: AskedRequest) => void): () => void {
    this.askedListeners.add(listener);
    return () => this.askedListeners.delete(listener);
  }

  isRunning(chatId: ChatId): boolean {
    return this.turns.has(chatId);
  }

  /** A turn begins when the user's message is recorded; its session is known once it exists. */
  startTurn(chatId: ChatId, workerId: string, sessionId: string | null, userMessageId: MessageId): void {
    this.turns.set(chatId, newTurn(chatId, workerId, sessionId, userMessageId));
  }

  /** The prompt reached OpenCode: from now on, a turn that hears nothing for too long is stalled. */
  promptSent(chatId: ChatId): void {
    const turn = this.turns.get(chatId);
    if (turn) turn.lastHeardAt = Date.now();
  }

  /** Ends a turn that never reached OpenCode (the prompt could not be sent). */
  failTurn(chatId: ChatId, error: { name: string; message: string }): void {
    const turn = this.turns.get(chatId);
    if (!turn) return;
    turn.error = error;
    this.finish(turn);
  }

  /** The reply streaming in a chat now, as the stream query shows it (or one that ended but is not saved yet). */
  streaming(chatId: ChatId): MessageView | null {
    const turn = this.turns.get(chatId);
    return turn ? streamingView(turn) : this.ends.view(chatId, streamingView);
  }

  /** Why the chat's last reply is not saved yet (the store refused it), if it is not: the chat takes no prompt until it is. */
  unsavedEnd(chatId: ChatId): string | null {
    return this.ends.pending(chatId);
  }

  /** Ends every turn as interrupted (the daemon is stopping). */
  interruptAll(reason: string): void {
    for (const turn of [...this.turns.values()]) this.interrupt(turn, reason);
    this.ends.flushAll();
  }

  stop(): void {
    clearInterval(this.sweep);
    clearInterval(this.stallSweep);
    this.ends.stop();
  }

  private interrupt(turn: Turn, reason: string): void {
    turn.error = { name: "Interrupted", message: reason };
    this.finish(turn, "interrupted");
  }

  /** A worker that stops running interrupts its chats' turns. */
  private workerChanged(workerId: string, runtime: WorkerRuntime): void {
    if (runtime.runState === "idle" || runtime.runState === "active") return;
    const why = runtime.reason ? `the worker is ${runtime.runState}: ${runtime.reason.split("\n")[0]}` : `the worker is ${runtime.runState}`;
    for (const turn of [...this.turns.values()]) if (turn.workerId === workerId) this.interrupt(turn, why);
  }

  private handle(workerId: string, event: OpencodeEvent): void {
    if (event.type === "events.resumed") return void this.catchUp(workerId);
    const chatId = event.sessionId ? this.sessions.get(`${workerId} ${event.sessionId}`) : undefined;
    if (!chatId) return; // a session ocfleet did not create
    const turn = this.turns.get(chatId);
    if (turn?.lastHeardAt) turn.lastHeardAt = Date.now();
    try {
      if (isRequestEvent(event)) {
        const asked = recordRequestEvent(this.options.runMutation, chatId, event);
        if (asked) for (const listener of this.askedListeners) listener({ chatId, kind: asked });
        return;
      }
      if (!turn || turn.finished) return;
      switch (event.type) {
        case "message.updated":
          return messageUpdated(turn, event.message, this.effects);
        case "part.updated":
          return partUpdated(turn, event.part, this.effects);
        case "part.delta":
          return partDelta(turn, event.messageId, event.partId, event.field, event.delta, this.effects);
        case "session.status":
          if (event.status.type === "retry") return this.retrying(turn, event.status.attempt, event.status.message, event.status.next);
          if (event.status.type === "idle") return this.idle(turn);
          return;
        case "session.idle":
          return this.idle(turn);
        case "session.error":
          if (event.error.name === "MessageAbortedError") turn.aborted = true;
          else turn.error ??= event.error;
          // An error before OpenCode even recorded our message would otherwise leave the turn open.
          if (!turn.opencodeUserMessageId) this.finish(turn);
          return;
      }
    } catch (err) {
      this.options.log.error("could not handle an OpenCode event", { chat: chatId, type: event.type, error: err });
    }
  }

  /**
   * After a break in a worker's event stream, replays each running turn's messages as OpenCode
   * has them now: text written meanwhile is not lost, and a reply that ended meanwhile ends.
   */
  private async catchUp(workerId: string): Promise<void> {
    const link = this.options.fleet.linkForWorker(workerId);
    try {
      // Recording a request is idempotent, so those seen before the break are no trouble.
      for (const event of (await link.command("requests.pending", { workerId })).events) this.handle(workerId, event);
    } catch (err) {
      this.options.log.warn("could not read pending requests after the event stream came back", { worker: workerId, error: String(err) });
    }
    for (const turn of [...this.turns.values()]) {
      if (turn.workerId === workerId && !turn.finished && !turn.settling) await this.readBack(turn, "after the event stream came back");
    }
  }

  /**
   * Ends a turn that OpenCode says is over, once its record is read back: what is stored is then
   * OpenCode's own account of the reply, even if an event was lost on the way.
   */
  private settle(turn: Turn): void {
    if (turn.settling || turn.finished) return;
    turn.settling = true;
    void this.readBack(turn, "as it ended").finally(() => this.finish(turn));
  }

  /** Reads the turn's messages from OpenCode and applies what the events missed. */
  private async readBack(turn: Turn, when: string): Promise<void> {
    if (!turn.sessionId) return;
    try {
      const request = this.options.fleet
        .linkForWorker(turn.workerId)
        .command("session.messages", { workerId: turn.workerId, sessionId: turn.sessionId, limit: READ_BACK_MESSAGES });
      const { messages } = await withDeadline(request, READ_BACK_TIMEOUT_MS, `no answer within ${READ_BACK_TIMEOUT_MS} ms`);
      if (turn.finished) return;
      const missed = recordReadBack(turn, messages, this.effects);
      if (missed > 0) this.options.log.info(`read back ${missed} part(s) the events missed ${when}`, { chat: turn.chatId });
    } catch (err) {
      this.options.log.warn(`could not read a reply back from OpenCode ${when}; keeping what the events gave`, { chat: turn.chatId, error: String(err) });
    }
  }

  /** The store refused a write of a streaming reply: stop the model (what it writes cannot be kept) and end the turn. */
  private storeFailed(turn: Turn, err: unknown): void {
    if (turn.finished || turn.storeProblem) return;
    const problem = storeProblem(err);
    turn.storeProblem = problem;
    turn.error = { name: "StoreFailed", message: problem };
    this.options.log.error("could not save a reply as it streamed; stopping it", { chat: turn.chatId, error: problem });
    // The turn ends once OpenCode has taken the abort: ending it first freed the chat for a next
    // prompt that the late abort then stopped (seen under load).
    this.abortThenFinish(turn, "could not stop a reply the store refused");
  }

  private retrying(turn: Turn, attempt: number, message: string, next: number): void {
    if (attempt > this.options.maxRetries) {
      const limit = this.options.maxRetries;
      turn.error = { name: "RetryLimit", message: `gave up after ${limit} ${limit === 1 ? "retry" : "retries"}: ${message}` };
      this.options.runMutation(setRetry, { chatId: turn.chatId, attempt: null, message: null, nextAt: null });
      this.abortThenFinish(turn, "could not abort a retrying turn");
      return;
    }
    this.options.runMutation(setRetry, { chatId: turn.chatId, attempt, message, nextAt: next || null });
  }

  private idle(turn: Turn): void {
    // An idle before OpenCode recorded our message belongs to the previous turn.
    if (turn.opencodeUserMessageId) this.settle(turn);
  }

  private finish(turn: Turn, forced?: "interrupted"): void {
    if (turn.finished) return;
    turn.finished = true;
    this.writes.cancel(turn);
    this.turns.delete(turn.chatId);
    // The end holds every part whole, so deltas not yet written need no batch of their own.
    turn.reply ??= { id: newId("message"), createdAt: Date.now() };
    const status: ReplyOutcome["status"] = forced ?? (turn.error ? "error" : turn.aborted ? "aborted" : "completed");
    const { tokens, cost, model } = turnFigures(turn);
    const error = turn.error ?? (turn.aborted ? { name: "Aborted", message: "stopped on request" } : null);
    this.ends.write(turn, {
      chatId: turn.chatId,
      messageId: turn.reply.id,
      status,
      parts: [...turn.parts.values()],
      model,
      tokens,
      cost,
      error,
      opencodeMessageIds: [...turn.opencodeMessages.keys()],
    });
    this.options.changed(TABLES.stream, turn.chatId);
  }

  /** Tells the modules that act on a turn's end, once the end is saved. */
  private announce(turn: Turn, outcome: ReplyOutcome): void {
    const finished: FinishedTurn = {
      chatId: turn.chatId,
      userMessageId: turn.userMessageId,
      replyId: outcome.messageId as MessageId,
      status: outcome.status,
      error: outcome.error,
    };
    for (const listener of this.finishedListeners) {
      try {
        listener(finished);
      } catch (err) {
        this.options.log.error("a turn-finished listener failed", { chat: turn.chatId, error: err });
      }
    }
  }
}
