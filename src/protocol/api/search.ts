// Search: the text of every message the caller may read (prompts, replies, reasoning, tool calls), ranked.
import type { ChatId, MessageId } from "../ids.js";
import { defineModule, query } from "./define.js";

/** A piece of a snippet; `match` pieces are what the query found. */
export interface SnippetPiece {
  text: string;
  match: boolean;
}

export type SearchRole = "user" | "assistant" | "tool";

export interface SearchHit {
  chatId: ChatId;
  chatTitle: string;
  messageId: MessageId;
  /** The part of the message that matched. */
  partId: string;
  /** user: a prompt; assistant: a reply's text or reasoning; tool: a tool call's input or output. */
  role: SearchRole;
  workerName: string;
  /** Empty once the chat's worker was removed. */
  machineName: string;
  ownerName: string;
  /** When the message was written, ms since the epoch. */
  at: number;
  snippet: SnippetPiece[];
}

export interface SearchArgs {
  /** Words; "a phrase"; prefix*; -excluded; OR between words. */
  query: string;
  worker?: string;
  machine?: string;
  /** How far back: 30m, 12h, 7d, 4w. */
  since?: string;
  role?: SearchRole;
  limit?: number;
  /** Admins: every user's chats, not only their own. */
  all?: boolean;
}

export const search = defineModule("search", {
  /** Best matches first (bm25). */
  messages: query<SearchArgs, SearchHit[]>(),
});
