// Sending a prompt into a chat: the one path for chat.send and for scheduled prompts. Records
// the message, starts the turn, (re)creates the OpenCode session if needed and hands the prompt
// to the worker.
import { FleetError } from "../../protocol/errors.js";
import type { ChatId, MessageId } from "../../protocol/ids.js";
import { storeFault } from "../db/store-fault.js";
import type { Fleet } from "../fleet.js";
import { checkBudgets } from "../model/budgets.js";
import { accessibleChat, checkModel, loadMessages } from "../model/chats.js";
import { internalQuery, type CallerUser, type InternalRunner } from "../model/context.js";
import { beginTurn, setActive, setSession } from "../model/replies.js";
import { usableWorkerOfChat } from "../model/workerAccess.js";
import type { ChatRuntime } from "./runtime.js";

export interface PromptArgs {
  chat: string;
  user: CallerUser;
  text: string;
  model?: string;
  /** Runs as soon as the message is recorded, before the turn can end. */
  onRecorded?: (messageId: MessageId) => void;
}

/** What sending needs: internal queries and mutations, the running turns and the routes to workers. */
export interface SendDeps {
  run: InternalRunner;
  turns: ChatRuntime;
  fleet: Pick<Fleet, "linkForWorker" | "waitForWorker">;
}

/** A prompt to a worker that is still starting waits this long for it before it fails. */
export const WORKER_READY_WAIT_MS = 120_000;

function parseModel(model: string | null): { providerId: string; modelId: string } | null {
  if (!model) return null;
  const slash = model.indexOf("/");
  return { providerId: model.slice(0, slash), modelId: model.slice(slash + 1) };
}

/** A short account of a chat so far, to seed a new OpenCode session when the old one is gone. */
/** The chat, if `user` may send into it: theirs (or they are an admin), on a worker that exists and that they may use. */
const chatToSend = internalQuery((ctx, args: { chat: string; user: CallerUser }) => {
  const row = accessibleChat({ ...ctx, user: args.user }, args.chat);
  usableWorkerOfChat(ctx, args.user, row);
  return row;
});

const transcriptSummary = internalQuery((ctx, args: { chatId: ChatId; before: string }) => {
  const lines: string[] = [];
  for (const message of loadMessages(ctx, args.chatId)
    .filter((m) => m.id !== args.before)
    .slice(-12)) {
    const text = message.parts
      .map((p) => (p.kind === "text" ? p.text : p.kind === "tool" ? `[ran ${p.tool}${p.title ? `: ${p.title}` : ""}]` : ""))
      .join(" ")
      .replace(/\s+/g, " ")
      .trim();
    if (text) lines.push(`${message.role === "user" ? "User" : "Assistant"}: ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`);
  }
  let summary = lines.join("\n");
  if (summary.length > 2500) summary = `…${summary.slice(-2500)}`;
  return summary;
});

const checkModelQuery = internalQuery((ctx, args: { workerId: string; model: string }) => checkModel(ctx, args.workerId, args.model));

/**
 * Sends a prompt into a chat as `user`: records the message, starts the turn, (re)creates the
 * OpenCode session if needed and hands the prompt to the worker. The one path for chat.send and
 * for scheduled prompts. `onRecorded` runs as soon as the message is recorded, before the turn can
 * end. Refuses a busy or archived chat, or one a spent budget covers (failed_precondition), and
 * writes nothing then.
 */
export async function sendPrompt(deps: SendDeps, args: PromptArgs): Promise<{ messageId: MessageId; budgetWarnings?: string[] }> {
  const { text, model } = args;
  const row = deps.run.runQuery(chatToSend, { chat: args.chat, user: args.user });
  if (row.worktree_removed_at !== null)
    throw new FleetError("failed_precondition", `the worktree of chat '${row.title}' was removed; start a new chat (ocfleet chat new --worktree)`);
  // A worktree chat's session works in its worktree: OpenCode takes the directory per request.
  const directory = row.worktree_directory;
  const chosenModel = model ?? row.model;
  if (model) deps.run.runQuery(checkModelQuery, { workerId: row.worker_id, model });
  // A spent budget refuses the turn before anything is written or sent; a running turn is not affected.
  const { warnings } = deps.run.runQuery(checkBudgets, { ownerId: row.owner_id, workerId: row.worker_id });
  const runtime = deps.turns;
  // The chat's last reply ended but the store refused to save it (a full disk): it comes first.
  const unsaved = runtime.unsavedEnd(row.id);
  if (unsaved) throw new FleetError("unavailable", `the last reply in chat '${row.title}' is not saved yet: ${unsaved}`);
  const { messageId, title } = deps.run.runMutation(beginTurn, { chatId: row.id, text, model: chosenModel });
  args.onRecorded?.(messageId as MessageId);
  runtime.startTurn(row.id, row.worker_id, row.opencode_session_id, messageId);
  try {
    // A worker still starting (the daemon just came back, a restart) is waited for, not refused.
    await deps.fleet.waitForWorker(row.worker_id, WORKER_READY_WAIT_MS);
    const link = deps.fleet.linkForWorker(row.worker_id);
    /** A new OpenCode session for the chat, seeded with what was said when an old one is gone. */
    const freshSession = async (): Promise<{ sessionId: string; prompt: string }> => {
      const summary = row.opencode_session_id ? deps.run.runQuery(transcriptSummary, { chatId: row.id, before: messageId }) : "";
      const created = (await link.command("session.create", { workerId: row.worker_id, title, directory })).sessionId;
      deps.run.runMutation(setSession, { chatId: row.id, sessionId: created });
      runtime.registerSession(row.id, row.worker_id, created);
      const prompt = summary
        ? `(This conversation continues from an earlier session that is gone. What was said so far:)\n${summary}\n\n(New message:)\n${text}`
        : text;
      return { sessionId: created, prompt };
    };
    const send = (to: { sessionId: string; prompt: string }) =>
      link.command("session.prompt", { workerId: row.worker_id, sessionId: to.sessionId, text: to.prompt, model: parseModel(chosenModel), directory });
    const sessionId = row.opencode_session_id;
    const exists =
      sessionId && row.state === "inactive" ? (await link.command("session.exists", { workerId: row.worker_id, sessionId })).exists : Boolean(sessionId);
    if (!sessionId || !exists) {
      await send(await freshSession());
    } else {
      if (row.state === "inactive") deps.run.runMutation(setActive, { chatId: row.id });
      runtime.registerSession(row.id, row.worker_id, sessionId);
      try {
        await send({ sessionId, prompt: text });
      } catch (err) {
        // The session may have vanished while the chat was still active (OpenCode's data was reset).
        if ((await link.command("session.exists", { workerId: row.worker_id, sessionId })).exists) throw err;
        await send(await freshSession());
      }
    }
    runtime.promptSent(row.id);
  } catch (err) {
    const message = storeFault(err) ?? (err instanceof Error ? err.message : String(err));
    runtime.failTurn(row.id, { name: "SendFailed", message: `could not send: ${message}` });
    throw err instanceof FleetError ? err : new FleetError("unavailable", `could not send to the worker: ${message}`);
  }
  return { messageId: messageId as MessageId, ...(warnings.length ? { budgetWarnings: warnings } : {}) };
}
