// Discussions: messages under a key, concluded by their owner with tagged conclusions.
import type { DiscussionId, DiscussionMessageId, UserId } from "../ids.js";
import { defineModule, mutation, query, type NoArgs } from "./define.js";

export type ConclusionTag = "decision" | "action" | "note";

export const CONCLUSION_TAGS = ["decision", "action", "note"] as const satisfies readonly ConclusionTag[];

export interface DiscussionMessageView {
  id: DiscussionMessageId;
  /** 1-based, in the order posted. */
  seq: number;
  authorId: UserId | null;
  authorName: string;
  text: string;
  createdAt: number;
}

export interface ConclusionView {
  text: string;
  tags: ConclusionTag[];
  concludedBy: string;
  concludedAt: number;
}

export interface DiscussionView {
  id: DiscussionId;
  key: string;
  title: string | null;
  ownerId: UserId;
  ownerName: string;
  concluded: boolean;
  /** Every conclusion so far, oldest first; a reopened discussion keeps its earlier ones. */
  conclusions: ConclusionView[];
  messages: DiscussionMessageView[];
  createdAt: number;
  updatedAt: number;
}

export interface DiscussionSummary {
  key: string;
  title: string | null;
  ownerName: string;
  concluded: boolean;
  messageCount: number;
  updatedAt: number;
}

type Key = { key: string };

export const discussions = defineModule("discussions", {
  /** Most recently active first. */
  list: query<NoArgs, DiscussionSummary[]>(),
  /** null when no discussion has the key. */
  get: query<Key, DiscussionView | null>(),
  /** Opens a discussion; the caller owns it. */
  open: mutation<Key & { title?: string }, DiscussionView>(),
  /** Anyone signed in may post to an open discussion. */
  post: mutation<Key & { text: string }, DiscussionMessageView>(),
  /** Owner or admin: records a conclusion and closes the discussion to posts. */
  conclude: mutation<Key & { conclusion: string; tags?: ConclusionTag[] }, DiscussionView>(),
  /** Owner or admin: opens a concluded discussion again. */
  reopen: mutation<Key, DiscussionView>(),
});
