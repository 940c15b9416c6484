// The worker access model, decided here and nowhere else. A worker has an owner (who added it).
// The owner and admins control it: start, stop, restart, its environment, its logs, remove, share.
// Others may use it (chat on it, send, schedule prompts) only if the owner shared it with them or
// with everyone; to anyone else it does not exist, as another user's chats do not.
// Setting the OpenCode binary or the environment overlay runs a program of the caller's choosing
// as the daemon's OS user, so only admins may (see adminOnlySettings).
import { FleetError } from "../../protocol/errors.js";
import type { CallerUser, ReadCtx } from "./context.js";
import { TABLES } from "./tables.js";
import { SELECT_WORKER, type WorkerRow } from "./workers.js";

export interface WorkerRights {
  /** Start, stop, restart, logs, remove, share. */
  control: boolean;
  /** Chat on it: create chats, send, answer its requests, schedule prompts. */
  use: boolean;
  /** It shows in lists and can be named at all. */
  see: boolean;
}

function isSharedWith(ctx: ReadCtx, row: WorkerRow, user: CallerUser): boolean {
  if (row.shared_with_everyone === 1) return true;
  return ctx.db.prepare("SELECT 1 FROM worker_shares WHERE worker_id = ? AND user_id = ?").get(row.id, user.id) !== undefined;
}

/** What `user` may do with the worker. */
export function workerRights(ctx: ReadCtx, user: CallerUser, row: WorkerRow): WorkerRights {
  ctx.reads(TABLES.workers, row.id); // sharing is stored under the worker's key
  const control = user.level === "system_admin" || row.created_by === user.id;
  const use = control || isSharedWith(ctx, row, user);
  return { control, use, see: use };
}

/** The same rule as workerRights' `see`, as SQL over `workers w`, for lists. Bind `visibleWorkerParams(user)`. */
export const VISIBLE_WORKER_SQL = `(? = 1 OR w.created_by = ? OR w.shared_with_everyone = 1
  OR EXISTS (SELECT 1 FROM worker_shares s WHERE s.worker_id = w.id AND s.user_id = ?))`;

export function visibleWorkerParams(user: CallerUser): [number, string, string] {
  return [user.level === "system_admin" ? 1 : 0, user.id, user.id];
}

function notFound(ref: string): FleetError {
  return new FleetError("not_found", `no worker '${ref}' (see: ocfleet worker list)`, { worker: ref });
}

/** The worker named by id or name, if `user` may see it; others' unshared workers look like missing ones. */
export function findWorkerFor(ctx: ReadCtx, user: CallerUser, ref: string): { row: WorkerRow; rights: WorkerRights } {
  ctx.reads(TABLES.workers);
  const row = ctx.db.prepare(`${SELECT_WORKER} WHERE w.id = ? OR w.name = ?`).get(ref, ref) as WorkerRow | undefined;
  if (!row) throw notFound(ref);
  const rights = workerRights(ctx, user, row);
  if (!rights.see) throw notFound(ref);
  return { row, rights };
}

/**
 * Throws unless `user` has `right` on the worker. `action` is what they tried, in the user's
 * words ("stop", "read the logs of", "chat on").
 */
export function requireWorkerRight(rights: WorkerRights, row: WorkerRow, right: "control" | "use", action: string): void {
  if (rights[right]) return;
  const owner = row.created_by_name ?? "its owner";
  throw new FleetError(
    "permission_denied",
    right === "control"
      ? `only ${owner} (its owner) or an admin can ${action} worker '${row.name}'`
      : `worker '${row.name}' is ${owner}'s and is not shared with you; ask them to run: ocfleet worker share ${row.name} --with <your name>`,
  );
}

/** The worker of a chat, for routing a command as `user`: `use` is needed, and a removed worker is named. */
export function usableWorkerOfChat(
  ctx: ReadCtx,
  user: CallerUser,
  chat: { worker_id: string; worker_name: string; title: string; removed_machine?: string | null },
): WorkerRow {
  ctx.reads(TABLES.workers, chat.worker_id);
  const row = ctx.db.prepare(`${SELECT_WORKER} WHERE w.id = ?`).get(chat.worker_id) as WorkerRow | undefined;
  if (!row) throw workerRemoved(chat);
  const rights = workerRights(ctx, user, row);
  requireWorkerRight(rights, row, "use", "chat on");
  return row;
}

export function workerRemoved(chat: { worker_name: string; title: string; removed_machine?: string | null }): FleetError {
  const gone = chat.removed_machine ? `worker '${chat.worker_name}' of machine '${chat.removed_machine}'` : `worker '${chat.worker_name}'`;
  return new FleetError(
    "failed_precondition",
    `chat '${chat.title}' was on ${gone}, which was removed; its transcript stays readable, and a new chat needs a worker: ocfleet chat new --worker <worker>`,
  );
}

/** Only admins may choose the OpenCode binary or the environment overlay: both run programs as the daemon's OS user. */
export function adminOnlySettings(user: CallerUser, args: { opencodeBinary?: string; env?: Record<string, string> }): void {
  if (user.level === "system_admin") return;
  const asked = [
    args.opencodeBinary !== undefined ? "--opencode-bin" : null,
    args.env !== undefined && Object.keys(args.env).length > 0 ? "--env/--env-file" : null,
  ].filter(Boolean);
  if (asked.length === 0) return;
  throw new FleetError(
    "permission_denied",
    `${asked.join(" and ")} can only be set by an admin (they choose what runs as the daemon's OS user); ask an admin to add the worker, or add it without them`,
  );
}
