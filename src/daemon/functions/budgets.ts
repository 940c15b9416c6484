// budgets: caps in USD per period, checked by the send path (model/budgets.ts). Who may set what:
// everyone's budget, admins; a user's, admins or that user (a cap you put on yourself); a worker's,
// whoever controls the worker (its owner or an admin). Clearing takes the same right as setting.
import { z } from "zod";
import { api, type BudgetScope } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import { resolveUserRef } from "../accounts/users.js";
import { newId } from "../crypto.js";
import { SELECT_BUDGET, toBudgetView, type BudgetRow } from "../model/budgets.js";
import { TABLES } from "../model/tables.js";
import { findWorkerFor, requireWorkerRight, visibleWorkerParams, VISIBLE_WORKER_SQL } from "../model/workerAccess.js";
import { defineMutation, defineQuery, type MutationCtx } from "./define.js";

const target = {
  worker: z.string().trim().min(1).optional(),
  user: z.string().trim().min(1).optional(),
  all: z.boolean().optional(),
};

type Access = MutationCtx<"user">;

/** The one target named, if the caller may budget it. */
function resolveTarget(ctx: Access, args: { worker?: string; user?: string; all?: boolean }): { scope: BudgetScope; targetId: string } {
  const named = [args.worker !== undefined, args.user !== undefined, args.all === true].filter(Boolean).length;
  if (named !== 1) throw new FleetError("invalid_argument", "worker: give exactly one of --worker <worker>, --user <user> or --all", { field: "worker" });
  const admin = ctx.user.level === "system_admin";
  if (args.all) {
    if (!admin) throw new FleetError("permission_denied", "only an admin can set or clear everyone's budget");
    return { scope: "all", targetId: "" };
  }
  if (args.user !== undefined) {
    if (!admin && args.user !== ctx.user.id && args.user !== ctx.user.name)
      throw new FleetError("permission_denied", "only an admin can set or clear another user's budget; yours is --user <your name>");
    return { scope: "user", targetId: resolveUserRef(ctx.db, args.user).id };
  }
  const { row, rights } = findWorkerFor(ctx, ctx.user, args.worker!);
  requireWorkerRight(rights, row, "control", "set or clear a budget on");
  return { scope: "worker", targetId: row.id };
}

export const set = defineMutation(api.budgets.set, {
  access: "user",
  args: z.strictObject({
    ...target,
    usd: z.number().positive("must be more than 0").max(1_000_000, "must be at most 1000000"),
    period: z.enum(["day", "week", "month"]),
  }),
  handler: (ctx, args) => {
    const { scope, targetId } = resolveTarget(ctx, args);
    ctx.db
      .prepare(
        `INSERT INTO budgets (id, scope, target_id, usd, period, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (scope, target_id) DO UPDATE SET usd = excluded.usd, period = excluded.period, created_by = excluded.created_by, updated_at = excluded.updated_at`,
      )
      .run(newId("budget"), scope, targetId, args.usd, args.period, ctx.user.id, ctx.now, ctx.now);
    ctx.writes(TABLES.budgets);
    const row = ctx.db.prepare(`${SELECT_BUDGET} WHERE b.scope = ? AND b.target_id = ?`).get(scope, targetId) as BudgetRow;
    return toBudgetView(ctx, row);
  },
});

export const list = defineQuery(api.budgets.list, {
  access: "user",
  args: z.strictObject({}),
  handler: (ctx) => {
    ctx.reads(TABLES.budgets);
    ctx.reads(TABLES.workers);
    const rows =
      ctx.user.level === "system_admin"
        ? (ctx.db.prepare(`${SELECT_BUDGET} ORDER BY b.scope, b.created_at`).all() as BudgetRow[])
        : (ctx.db
            .prepare(
              `${SELECT_BUDGET} WHERE b.scope = 'all' OR (b.scope = 'user' AND b.target_id = ?)
                 OR (b.scope = 'worker' AND b.target_id IN (SELECT w.id FROM workers w WHERE ${VISIBLE_WORKER_SQL})) ORDER BY b.scope, b.created_at`,
            )
            .all(ctx.user.id, ...visibleWorkerParams(ctx.user)) as BudgetRow[]);
    return rows.map((row) => toBudgetView(ctx, row));
  },
});

export const clear = defineMutation(api.budgets.clear, {
  access: "user",
  args: z.strictObject(target),
  handler: (ctx, args) => {
    const { scope, targetId } = resolveTarget(ctx, args);
    const { changes } = ctx.db.prepare("DELETE FROM budgets WHERE scope = ? AND target_id = ?").run(scope, targetId);
    if (changes > 0) ctx.writes(TABLES.budgets);
    return { cleared: changes > 0 };
  },
});
