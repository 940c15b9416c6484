// discussions: messages under a key. The opener owns it; anyone signed in posts while it is open;
// the owner or an admin concludes it with tagged conclusions (which closes it) and may reopen it.
import { z } from "zod";
import {
  api,
  type ConclusionTag,
  type ConclusionView,
  type DiscussionMessageView,
  type DiscussionSummary,
  type DiscussionView,
} from "../../protocol/api/index.js";
import { CONCLUSION_TAGS } from "../../protocol/api/discussions.js";
import { FleetError } from "../../protocol/errors.js";
import type { DiscussionId, DiscussionMessageId, UserId } from "../../protocol/ids.js";
import { newId } from "../crypto.js";
import { keyArg, textArg } from "./args.js";
import { defineMutation, defineQuery, type MutationCtx, type QueryCtx } from "./define.js";
import { TABLES } from "../model/tables.js";

/** Live-query table: keyed by the discussion's key, covering its messages and conclusions. */
const tagArg = z.enum(CONCLUSION_TAGS, { error: "must be decision, action or note" });

interface DiscussionRow {
  id: DiscussionId;
  key: string;
  title: string | null;
  owner_id: UserId;
  owner_name: string;
  concluded_at: number | null;
  created_at: number;
  updated_at: number;
}

interface MessageRow {
  id: DiscussionMessageId;
  seq: number;
  author_id: UserId | null;
  author_name: string | null;
  text: string;
  created_at: number;
}

function loadDiscussion(ctx: QueryCtx, key: string): DiscussionRow | undefined {
  ctx.reads(TABLES.discussions, key);
  return ctx.db.prepare("SELECT d.*, o.name AS owner_name FROM discussions d JOIN users o ON o.id = d.owner_id WHERE d.key = ?").get(key) as
    | DiscussionRow
    | undefined;
}

function requireDiscussion(ctx: QueryCtx, key: string): DiscussionRow {
  const row = loadDiscussion(ctx, key);
  if (!row) throw new FleetError("not_found", `no discussion '${key}'; open it with: ocfleet discuss open ${key}`, { key });
  return row;
}

function toMessageView(row: MessageRow): DiscussionMessageView {
  return { id: row.id, seq: row.seq, authorId: row.author_id, authorName: row.author_name ?? "(deleted user)", text: row.text, createdAt: row.created_at };
}

const SELECT_MESSAGE = "SELECT m.*, u.name AS author_name FROM discussion_messages m LEFT JOIN users u ON u.id = m.author_id";

function toView(ctx: QueryCtx, row: DiscussionRow): DiscussionView {
  const messages = (ctx.db.prepare(`${SELECT_MESSAGE} WHERE m.discussion_id = ? ORDER BY m.seq`).all(row.id) as MessageRow[]).map(toMessageView);
  const conclusions = (
    ctx.db
      .prepare(
        `SELECT c.text, c.tags, c.concluded_at, u.name AS concluded_by_name FROM discussion_conclusions c
         LEFT JOIN users u ON u.id = c.concluded_by WHERE c.discussion_id = ? ORDER BY c.concluded_at, c.id`,
      )
      .all(row.id) as { text: string; tags: string; concluded_at: number; concluded_by_name: string | null }[]
  ).map(
    (c): ConclusionView => ({
      text: c.text,
      tags: JSON.parse(c.tags) as ConclusionTag[],
      concludedBy: c.concluded_by_name ?? "(deleted user)",
      concludedAt: c.concluded_at,
    }),
  );
  return {
    id: row.id,
    key: row.key,
    title: row.title,
    ownerId: row.owner_id,
    ownerName: row.owner_name,
    concluded: row.concluded_at !== null,
    conclusions,
    messages,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function touch(ctx: MutationCtx, row: DiscussionRow): void {
  ctx.db.prepare("UPDATE discussions SET updated_at = ? WHERE id = ?").run(ctx.now, row.id);
  ctx.writes(TABLES.discussions, row.key);
}

function requireOwnerOrAdmin(ctx: MutationCtx<"user">, row: DiscussionRow, action: string): void {
  if (row.owner_id !== ctx.user.id && ctx.user.level !== "system_admin") {
    throw new FleetError("permission_denied", `only ${row.owner_name} (who opened it) or an admin can ${action} discussion '${row.key}'`);
  }
}

export const list = defineQuery(api.discussions.list, {
  access: "user",
  args: z.strictObject({}),
  handler: (ctx): DiscussionSummary[] => {
    ctx.reads(TABLES.discussions);
    const rows = ctx.db
      .prepare(
        `SELECT d.key, d.title, d.concluded_at, d.updated_at, o.name AS owner_name,
                (SELECT COUNT(*) FROM discussion_messages m WHERE m.discussion_id = d.id) AS message_count
         FROM discussions d JOIN users o ON o.id = d.owner_id ORDER BY d.updated_at DESC`,
      )
      .all() as { key: string; title: string | null; concluded_at: number | null; updated_at: number; owner_name: string; message_count: number }[];
    return rows.map((r) => ({
      key: r.key,
      title: r.title,
      ownerName: r.owner_name,
      concluded: r.concluded_at !== null,
      messageCount: r.message_count,
      updatedAt: r.updated_at,
    }));
  },
});

export const get = defineQuery(api.discussions.get, {
  access: "user",
  args: z.strictObject({ key: keyArg }),
  handler: (ctx, { key }) => {
    const row = loadDiscussion(ctx, key);
    return row ? toView(ctx, row) : null;
  },
});

export const open = defineMutation(api.discussions.open, {
  access: "user",
  args: z.strictObject({ key: keyArg, title: z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters").optional() }),
  handler: (ctx, { key, title }) => {
    const existing = loadDiscussion(ctx, key);
    if (existing) {
      throw new FleetError(
        "already_exists",
        `discussion '${key}' is already open (by ${existing.owner_name}); post to it with: ocfleet discuss post ${key} "text"`,
        { key },
      );
    }
    ctx.db
      .prepare("INSERT INTO discussions (id, key, title, owner_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(newId("discussion"), key, title ?? null, ctx.user.id, ctx.now, ctx.now);
    ctx.writes(TABLES.discussions, key);
    return toView(ctx, requireDiscussion(ctx, key));
  },
});

export const post = defineMutation(api.discussions.post, {
  access: "user",
  args: z.strictObject({ key: keyArg, text: textArg }),
  handler: (ctx, { key, text }) => {
    const row = requireDiscussion(ctx, key);
    if (row.concluded_at !== null) {
      throw new FleetError("failed_precondition", `discussion '${key}' is concluded; its owner or an admin can reopen it with: ocfleet discuss reopen ${key}`, {
        key,
      });
    }
    const { next } = ctx.db.prepare("SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM discussion_messages WHERE discussion_id = ?").get(row.id) as {
      next: number;
    };
    const id = newId("discussionMessage");
    ctx.db
      .prepare("INSERT INTO discussion_messages (id, discussion_id, seq, author_id, text, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(id, row.id, next, ctx.user.id, text, ctx.now);
    touch(ctx, row);
    return toMessageView(ctx.db.prepare(`${SELECT_MESSAGE} WHERE m.id = ?`).get(id) as MessageRow);
  },
});

export const conclude = defineMutation(api.discussions.conclude, {
  access: "user",
  args: z.strictObject({ key: keyArg, conclusion: textArg, tags: z.array(tagArg).max(10, "must be at most 10 tags").optional() }),
  handler: (ctx, { key, conclusion, tags }) => {
    const row = requireDiscussion(ctx, key);
    requireOwnerOrAdmin(ctx, row, "conclude");
    if (row.concluded_at !== null) {
      throw new FleetError("failed_precondition", `discussion '${key}' is already concluded; reopen it first with: ocfleet discuss reopen ${key}`, { key });
    }
    const uniqueTags = [...new Set(tags ?? [])];
    ctx.db
      .prepare("INSERT INTO discussion_conclusions (discussion_id, text, tags, concluded_by, concluded_at) VALUES (?, ?, ?, ?, ?)")
      .run(row.id, conclusion, JSON.stringify(uniqueTags), ctx.user.id, ctx.now);
    ctx.db.prepare("UPDATE discussions SET concluded_at = ? WHERE id = ?").run(ctx.now, row.id);
    touch(ctx, row);
    return toView(ctx, requireDiscussion(ctx, key));
  },
});

export const reopen = defineMutation(api.discussions.reopen, {
  access: "user",
  args: z.strictObject({ key: keyArg }),
  handler: (ctx, { key }) => {
    const row = requireDiscussion(ctx, key);
    requireOwnerOrAdmin(ctx, row, "reopen");
    if (row.concluded_at === null) throw new FleetError("failed_precondition", `discussion '${key}' is not concluded`, { key });
    ctx.db.prepare("UPDATE discussions SET concluded_at = NULL WHERE id = ?").run(row.id);
    touch(ctx, row);
    return toView(ctx, requireDiscussion(ctx, key));
  },
});
