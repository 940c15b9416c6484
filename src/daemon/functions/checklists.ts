// checklists: items under a key. Anyone signed in may add, tick, edit and reorder items;
// the checklist's owner or an admin concludes it, which locks it until reopened.
import { z } from "zod";
import { api, type ChecklistItemView, type ChecklistSummary, type ChecklistView } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import type { ChecklistId, ChecklistItemId } from "../../protocol/ids.js";
import { newId } from "../crypto.js";
import { defineMutation, defineQuery, type MutationCtx, type QueryCtx } from "./define.js";
import { idArg, keyArg, textArg } from "./args.js";
import { TABLES } from "../model/tables.js";

/** Live-query table: keyed by the checklist's key, covering its items too. */
interface ChecklistRow {
  id: ChecklistId;
  key: string;
  owner_id: string;
  owner_name: string;
  concluded_at: number | null;
  concluded_by_name: string | null;
  created_at: number;
  updated_at: number;
}

interface ItemRow {
  id: ChecklistItemId;
  position: number;
  text: string;
  done_at: number | null;
  done_by_name: string | null;
  created_by_name: string | null;
  created_at: number;
  updated_at: number;
}

const itemRef = { key: keyArg, itemId: idArg("checklistItem") };

function loadChecklist(ctx: QueryCtx, key: string): ChecklistRow | undefined {
  ctx.reads(TABLES.checklists, key);
  return ctx.db
    .prepare(
      `SELECT c.*, o.name AS owner_name, cb.name AS concluded_by_name
       FROM checklists c JOIN users o ON o.id = c.owner_id LEFT JOIN users cb ON cb.id = c.concluded_by
       WHERE c.key = ?`,
    )
    .get(key) as ChecklistRow | undefined;
}

function loadItems(ctx: QueryCtx, checklistId: ChecklistId): ItemView[] {
  const rows = ctx.db
    .prepare(
      `SELECT i.*, d.name AS done_by_name, cr.name AS created_by_name
       FROM checklist_items i LEFT JOIN users d ON d.id = i.done_by LEFT JOIN users cr ON cr.id = i.created_by
       WHERE i.checklist_id = ? ORDER BY i.position`,
    )
    .all(checklistId) as ItemRow[];
  return rows.map(toItemView);
}

type ItemView = ChecklistItemView;

function toItemView(row: ItemRow): ItemView {
  return {
    id: row.id,
    position: row.position,
    text: row.text,
    done: row.done_at !== null,
    doneAt: row.done_at,
    doneBy: row.done_by_name,
    createdBy: row.created_by_name ?? "(deleted user)",
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toView(ctx: QueryCtx, row: ChecklistRow): ChecklistView {
  return {
    id: row.id,
    key: row.key,
    ownerId: row.owner_id as ChecklistView["ownerId"],
    ownerName: row.owner_name,
    concluded: row.concluded_at !== null,
    concludedAt: row.concluded_at,
    concludedBy: row.concluded_by_name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    items: loadItems(ctx, row.id),
  };
}

function requireChecklist(ctx: QueryCtx, key: string): ChecklistRow {
  const row = loadChecklist(ctx, key);
  if (!row) throw new FleetError("not_found", `no checklist '${key}'`, { key });
  return row;
}

function assertNotConcluded(row: ChecklistRow): void {
  if (row.concluded_at !== null) {
    throw new FleetError("failed_precondition", `checklist '${row.key}' is concluded; reopen it to change it (ocfleet checklist reopen ${row.key})`, {
      key: row.key,
    });
  }
}

/** A checklist that may be edited: it exists and is not concluded. */
function requireOpenChecklist(ctx: MutationCtx, key: string): ChecklistRow {
  const row = requireChecklist(ctx, key);
  assertNotConcluded(row);
  return row;
}

function requireItem(ctx: MutationCtx, checklist: ChecklistRow, itemId: ChecklistItemId): ItemView {
  const item = loadItems(ctx, checklist.id).find((candidate) => candidate.id === itemId);
  if (!item) throw new FleetError("not_found", `checklist '${checklist.key}' has no item ${itemId}`, { itemId });
  return item;
}

function touch(ctx: MutationCtx, checklist: ChecklistRow): void {
  ctx.db.prepare("UPDATE checklists SET updated_at = ? WHERE id = ?").run(ctx.now, checklist.id);
  ctx.writes(TABLES.checklists, checklist.key);
}

/** Rewrites positions as 1..n in the given order. */
function renumber(ctx: MutationCtx, order: readonly ChecklistItemId[]): void {
  const update = ctx.db.prepare("UPDATE checklist_items SET position = ? WHERE id = ? AND position <> ?");
  order.forEach((id, index) => update.run(index + 1, id, index + 1));
}

function requireOwnerOrAdmin(ctx: MutationCtx<"user">, checklist: ChecklistRow, action: string): void {
  if (checklist.owner_id !== ctx.user.id && ctx.user.level !== "system_admin") {
    throw new FleetError("permission_denied", `only ${checklist.owner_name} (the checklist's owner) or an admin can ${action} checklist '${checklist.key}'`);
  }
}

export const list = defineQuery(api.checklists.list, {
  access: "user",
  args: z.strictObject({}),
  handler: (ctx): ChecklistSummary[] => {
    ctx.reads(TABLES.checklists);
    return ctx.db
      .prepare(
        `SELECT c.key, c.concluded_at, c.updated_at,
                COUNT(i.id) AS item_count, COUNT(i.done_at) AS done_count
         FROM checklists c LEFT JOIN checklist_items i ON i.checklist_id = c.id
         GROUP BY c.id ORDER BY c.updated_at DESC`,
      )
      .all()
      .map((row) => {
        const r = row as { key: string; concluded_at: number | null; updated_at: number; item_count: number; done_count: number };
        return { key: r.key, itemCount: r.item_count, doneCount: r.done_count, concluded: r.concluded_at !== null, updatedAt: r.updated_at };
      });
  },
});

export const get = defineQuery(api.checklists.get, {
  access: "user",
  args: z.strictObject({ key: keyArg }),
  handler: (ctx, { key }) => {
    const row = loadChecklist(ctx, key);
    return row ? toView(ctx, row) : null;
  },
});

export const addItem = defineMutation(api.checklists.addItem, {
  access: "user",
  args: z.strictObject({ key: keyArg, text: textArg }),
  handler: (ctx, { key, text }) => {
    let checklist = loadChecklist(ctx, key);
    if (!checklist) {
      ctx.db
        .prepare("INSERT INTO checklists (id, key, owner_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)")
        .run(newId("checklist"), key, ctx.user.id, ctx.now, ctx.now);
      checklist = requireChecklist(ctx, key);
    }
    assertNotConcluded(checklist);
    const { next } = ctx.db.prepare("SELECT COALESCE(MAX(position), 0) + 1 AS next FROM checklist_items WHERE checklist_id = ?").get(checklist.id) as {
      next: number;
    };
    const id = newId("checklistItem");
    ctx.db
      .prepare(
        `INSERT INTO checklist_items (id, checklist_id, position, text, created_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, checklist.id, next, text, ctx.user.id, ctx.now, ctx.now);
    touch(ctx, checklist);
    return requireItem(ctx, checklist, id);
  },
});

export const toggleItem = defineMutation(api.checklists.toggleItem, {
  access: "user",
  args: z.strictObject({ ...itemRef, done: z.boolean().optional() }),
  handler: (ctx, { key, itemId, done }) => {
    const checklist = requireOpenChecklist(ctx, key);
    const item = requireItem(ctx, checklist, itemId);
    const markDone = done ?? !item.done;
    if (markDone !== item.done) {
      ctx.db
        .prepare("UPDATE checklist_items SET done_at = ?, done_by = ?, updated_at = ? WHERE id = ?")
        .run(markDone ? ctx.now : null, markDone ? ctx.user.id : null, ctx.now, itemId);
      touch(ctx, checklist);
    }
    return requireItem(ctx, checklist, itemId);
  },
});

export const editItem = defineMutation(api.checklists.editItem, {
  access: "user",
  args: z.strictObject({ ...itemRef, text: textArg }),
  handler: (ctx, { key, itemId, text }) => {
    const checklist = requireOpenChecklist(ctx, key);
    requireItem(ctx, checklist, itemId);
    ctx.db.prepare("UPDATE checklist_items SET text = ?, updated_at = ? WHERE id = ?").run(text, ctx.now, itemId);
    touch(ctx, checklist);
    return requireItem(ctx, checklist, itemId);
  },
});

export const removeItem = defineMutation(api.checklists.removeItem, {
  access: "user",
  args: z.strictObject(itemRef),
  handler: (ctx, { key, itemId }) => {
    const checklist = requireOpenChecklist(ctx, key);
    requireItem(ctx, checklist, itemId);
    ctx.db.prepare("DELETE FROM checklist_items WHERE id = ?").run(itemId);
    renumber(
      ctx,
      loadItems(ctx, checklist.id).map((item) => item.id),
    );
    touch(ctx, checklist);
    return { removed: true as const };
  },
});

export const moveItem = defineMutation(api.checklists.moveItem, {
  access: "user",
  args: z.strictObject({ ...itemRef, position: z.number().int().min(1) }),
  handler: (ctx, { key, itemId, position }) => {
    const checklist = requireOpenChecklist(ctx, key);
    requireItem(ctx, checklist, itemId);
    const order = loadItems(ctx, checklist.id)
      .map((item) => item.id)
      .filter((id) => id !== itemId);
    // A position past the end is a mistake to report, not one to guess at.
    if (position > order.length + 1) {
      throw new FleetError("invalid_argument", `position: must be from 1 to ${order.length + 1} ('${key}' has ${order.length + 1} item(s))`, {
        field: "position",
      });
    }
    order.splice(position - 1, 0, itemId);
    renumber(ctx, order);
    ctx.db.prepare("UPDATE checklist_items SET updated_at = ? WHERE id = ?").run(ctx.now, itemId);
    touch(ctx, checklist);
    return requireItem(ctx, checklist, itemId);
  },
});

export const clearCompleted = defineMutation(api.checklists.clearCompleted, {
  access: "user",
  args: z.strictObject({ key: keyArg }),
  handler: (ctx, { key }) => {
    const checklist = requireOpenChecklist(ctx, key);
    const { changes } = ctx.db.prepare("DELETE FROM checklist_items WHERE checklist_id = ? AND done_at IS NOT NULL").run(checklist.id);
    if (changes > 0) {
      renumber(
        ctx,
        loadItems(ctx, checklist.id).map((item) => item.id),
      );
      touch(ctx, checklist);
    }
    return { removed: changes };
  },
});

export const conclude = defineMutation(api.checklists.conclude, {
  access: "user",
  args: z.strictObject({ key: keyArg }),
  handler: (ctx, { key }) => {
    const checklist = requireOpenChecklist(ctx, key);
    requireOwnerOrAdmin(ctx, checklist, "conclude");
    ctx.db.prepare("UPDATE checklists SET concluded_at = ?, concluded_by = ? WHERE id = ?").run(ctx.now, ctx.user.id, checklist.id);
    touch(ctx, checklist);
    return toView(ctx, requireChecklist(ctx, key));
  },
});

export const reopen = defineMutation(api.checklists.reopen, {
  access: "user",
  args: z.strictObject({ key: keyArg }),
  handler: (ctx, { key }) => {
    const checklist = requireChecklist(ctx, key);
    if (checklist.concluded_at === null) {
      throw new FleetError("failed_precondition", `checklist '${key}' is not concluded`, { key });
    }
    requireOwnerOrAdmin(ctx, checklist, "reopen");
    ctx.db.prepare("UPDATE checklists SET concluded_at = NULL, concluded_by = NULL WHERE id = ?").run(checklist.id);
    touch(ctx, checklist);
    return toView(ctx, requireChecklist(ctx, key));
  },
});
