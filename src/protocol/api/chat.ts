// Chat: conversations with a worker's OpenCode, streamed live to every client that watches.
import type { ChatId, ChatRequestId, MessageId, WorkerId } from "../ids.js";
import { action, defineModule, mutation, query, type NoArgs } from "./define.js";

export type ChatState = "active" | "inactive";

/**
 * user: sent. assistant: streaming while the reply grows, then completed, error (the provider or
 * OpenCode failed), aborted (someone stopped it), or interrupted (the daemon or worker died).
 */
export type MessageStatus = "sent" | "streaming" | "completed" | "error" | "aborted" | "interrupted";

export type ToolStatus = "pending" | "running" | "completed" | "error";

export type PartView =
  | { id: string; kind: "text"; text: string }
  | { id: string; kind: "reasoning"; text: string }
  | {
      id: string;
      kind: "tool";
      tool: string;
      callId: string;
      status: ToolStatus;
      title: string | null;
      input: Record<string, unknown>;
      output: string | null;
      error: string | null;
    }
  | { id: string; kind: "patch"; files: string[] }
  | { id: string; kind: "file"; filename: string | null; mime: string | null };

export interface TokenCounts {
  input: number;
  output: number;
  reasoning: number;
  cacheRead: number;
  cacheWrite: number;
}

export interface MessageView {
  id: MessageId;
  chatId: ChatId;
  role: "user" | "assistant";
  status: MessageStatus;
  /** For an assistant message: the user message it answers. */
  replyTo: MessageId | null;
  parts: PartView[];
  /** provider/model that produced it (assistant), or that was asked for (user). */
  model: string | null;
  tokens: TokenCounts | null;
  cost: number | null;
  error: { name: string; message: string } | null;
  createdAt: number;
  completedAt: number | null;
}

export interface RetryState {
  attempt: number;
  message: string;
  /** When OpenCode will try again (ms since the epoch). */
  nextAt: number | null;
}

export type RequestKind = "permission" | "question";
export type RequestStatus = "pending" | "answered" | "rejected" | "expired";

export interface QuestionView {
  question: string;
  header: string;
  options: Array<{ label: string; description: string }>;
  multiple: boolean;
  custom: boolean;
}

export interface RequestView {
  id: ChatRequestId;
  chatId: ChatId;
  chatTitle: string;
  workerName: string;
  /** The machine the worker runs on (empty once the worker was removed). */
  machineName: string;
  kind: RequestKind;
  status: RequestStatus;
  /** Permissions: what OpenCode wants to do (e.g. "bash") and on what (patterns, command). */
  permission: {
    name: string;
    patterns: string[];
    detail: string | null;
    /** An edit or write: the change it would make, as a unified diff (null when OpenCode gave none). */
    diff?: string | null;
    /** Where the session works: a bash command's working directory. */
    directory?: string | null;
  } | null;
  questions: QuestionView[] | null;
  /** once|always|reject for permissions; the chosen answers for questions. */
  answer: string | string[][] | null;
  createdAt: number;
  answeredAt: number | null;
}

export interface ChatSummary {
  id: ChatId;
  title: string;
  /** The worker it is (or was) on. */
  workerId: WorkerId;
  workerName: string;
  /** The worker was removed: the transcript stays readable; sending is refused. */
  workerRemoved: boolean;
  /** When the worker went with its machine (`machine remove`): that machine's name; null otherwise. */
  removedMachine: string | null;
  /** Empty once the worker was removed. */
  machineName: string;
  /** provider/model for new turns; null means the worker's default. */
  model: string | null;
  state: ChatState;
  archived: boolean;
  /** A turn is running (from send until the reply ends). */
  busy: boolean;
  pendingRequests: number;
  /** What its replies cost so far, USD, as OpenCode priced them. */
  cost: number;
  ownerName: string;
  lastActivityAt: number;
  createdAt: number;
  /** A worktree chat: its own git worktree and branch (`chat new --worktree`); null for the worker's shared checkout. */
  worktree: { branch: string; base: string; removed: boolean } | null;
}

export interface ChatView extends ChatSummary {
  opencodeSessionId: string | null;
  /** Set while OpenCode is retrying a failing provider. */
  retry: RetryState | null;
  requests: RequestView[];
  usage: { tokens: TokenCounts; cost: number };
}

type ChatRef = { chat: string };

export const chat = defineModule("chat", {
  /** Creates a chat on a worker (by id or name). The OpenCode session is made at the first send. */
  create: mutation<{ worker: string; model?: string; title?: string }, ChatView>(),
  list: query<{ worker?: string; all?: boolean }, ChatSummary[]>(),
  get: query<ChatRef, ChatView>(),
  /**
   * Every message except the one streaming now; with `last`, only the newest `last` of them (a
   * screen showing the end of a long chat needs no more, and its every change then costs no more).
   */
  messages: query<ChatRef & { last?: number }, MessageView[]>(),
  /** The message streaming now, or null: its text grows by appends. */
  stream: query<ChatRef, MessageView | null>(),
  /** Sends a prompt; returns at once with the user message's id (and a warning per budget past 80 %). */
  send: action<ChatRef & { text: string; model?: string }, { messageId: MessageId; budgetWarnings?: string[] }>(),
  abort: action<ChatRef, { aborted: boolean }>(),
  rename: action<ChatRef & { title: string }, ChatView>(),
  archive: mutation<ChatRef & { archived?: boolean }, ChatView>(),
  /** Pending permission and question requests of the caller's chats (all chats for admins). */
  pending: query<NoArgs, RequestView[]>(),
  permit: action<{ request: string; reply: "once" | "always" | "reject" }, RequestView>(),
  /** Answers a question request: one list of choices (or free text) per question; or rejects it. */
  answer: action<{ request: string; answers?: string[][]; reject?: boolean }, RequestView>(),
});
