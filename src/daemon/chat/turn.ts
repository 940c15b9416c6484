// The state of one turn in progress (a user message and the reply OpenCode is writing to it),
// and the views of it that need nothing but that state. The runtime drives turns; this holds them.
import type { MessageView, PartView, TokenCounts } from "../../protocol/api/index.js";
import type { ChatId, MessageId } from "../../protocol/ids.js";
import type { OpencodeMessage } from "../agent/opencode.js";
import type { ChunkWrite } from "../model/replies.js";

export interface Turn {
  chatId: ChatId;
  workerId: string;
  sessionId: string | null;
  userMessageId: MessageId;
  startedAt: number;
  /** When the prompt was handed to OpenCode, or OpenCode last said anything about the turn since (the inactivity limit counts from it; null before). */
  lastHeardAt: number | null;
  /** OpenCode's id for our user message, learned from its event: assistant messages answer it. */
  opencodeUserMessageId: string | null;
  /** The reply's message: its id is ours from the first part on, its row may not be saved yet (replySaved). */
  reply: { id: MessageId; createdAt: number } | null;
  replySaved: boolean;
  replyModel: string | null;
  /** Why the store refused the reply's writes (a full disk); the turn was stopped then. */
  storeProblem: string | null;
  opencodeMessages: Map<string, OpencodeMessage>;
  parts: Map<string, PartView>;
  /** OpenCode says the turn is over; its record is being read back before the turn ends. */
  settling: boolean;
  pendingChunks: ChunkWrite[];
  pendingBytes: number;
  dirtyParts: Set<string>;
  flushTimer: NodeJS.Timeout | undefined;
  error: { name: string; message: string } | null;
  aborted: boolean;
  finished: boolean;
}

export function newTurn(chatId: ChatId, workerId: string, sessionId: string | null, userMessageId: MessageId): Turn {
  return {
    chatId,
    workerId,
    sessionId,
    userMessageId,
    startedAt: Date.now(),
    lastHeardAt: null,
    opencodeUserMessageId: null,
    reply: null,
    replySaved: false,
    replyModel: null,
    storeProblem: null,
    opencodeMessages: new Map(),
    parts: new Map(),
    settling: false,
    pendingChunks: [],
    pendingBytes: 0,
    dirtyParts: new Set(),
    flushTimer: undefined,
    error: null,
    aborted: false,
    finished: false,
  };
}

/** The reply in progress as the stream query shows it, once it exists. */
export function streamingView(turn: Turn): MessageView | null {
  if (!turn.reply) return null;
  const { tokens, cost, model } = turnFigures(turn);
  return {
    id: turn.reply.id,
    chatId: turn.chatId,
    role: "assistant",
    status: "streaming",
    replyTo: turn.userMessageId,
    parts: [...turn.parts.values()],
    model,
    tokens,
    cost,
    error: null,
    createdAt: turn.reply.createdAt,
    completedAt: null,
  };
}

/** Tokens and cost summed over the reply's OpenCode messages, and the model of the last one. */
export function turnFigures(turn: Turn): { tokens: TokenCounts | null; cost: number | null; model: string | null } {
  const messages = [...turn.opencodeMessages.values()];
  if (messages.length === 0) return { tokens: null, cost: null, model: null };
  const tokens: TokenCounts = { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 };
  let cost = 0;
  for (const m of messages) {
    if (m.tokens) for (const key of Object.keys(tokens) as (keyof TokenCounts)[]) tokens[key] += m.tokens[key];
    cost += m.cost ?? 0;
  }
  const last = messages.at(-1)!;
  return { tokens, cost, model: last.providerId && last.modelId ? `${last.providerId}/${last.modelId}` : null };
}
