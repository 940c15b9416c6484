// The workers table: rows, views, and the internal functions that the fleet (agents' reports,
// resuming at start) and the worker functions share.
import type { WorkerView } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import type { WorkerId } from "../../protocol/ids.js";
import type { WorkerRuntime, WorkerSpec } from "../agent/link.js";
import type { SecretKeeper } from "../crypto.js";
import { internalMutation, internalQuery, type ReadCtx } from "./context.js";
import { TABLES } from "./tables.js";

export interface WorkerRow {
  id: WorkerId;
  machine_id: string;
  machine_name: string;
  name: string;
  directory: string;
  approval: WorkerView["approval"];
  desired_state: WorkerView["desiredState"];
  run_state: WorkerView["runState"];
  state_reason: string | null;
  state_changed_at: number;
  pid: number | null;
  started_at: number | null;
  restart_count: number;
  opencode_version: string | null;
  opencode_binary: string | null;
  env_sealed: string | null;
  env_keys: string;
  isolated: number;
  models_refreshed_at: number | null;
  created_by: string | null;
  created_by_name: string | null;
  created_at: number;
  shared_with_everyone: number;
  /** JSON array of the names of the users it is shared with. */
  shared_with_json: string;
}

export const SELECT_WORKER = `SELECT w.*, m.name AS machine_name, u.name AS created_by_name,
    (SELECT json_group_array(su.name) FROM worker_shares s JOIN users su ON su.id = s.user_id WHERE s.worker_id = w.id) AS shared_with_json
  FROM workers w JOIN machines m ON m.id = w.machine_id LEFT JOIN users u ON u.id = w.created_by`;

export function toWorkerView(row: WorkerRow): WorkerView {
  return {
    id: row.id,
    name: row.name,
    machineId: row.machine_id as WorkerView["machineId"],
    machineName: row.machine_name,
    directory: row.directory,
    approval: row.approval,
    desiredState: row.desired_state,
    runState: row.run_state,
    reason: row.state_reason,
    stateChangedAt: row.state_changed_at,
    pid: row.pid,
    startedAt: row.started_at,
    restartCount: row.restart_count,
    opencodeVersion: row.opencode_version,
    envKeys: JSON.parse(row.env_keys) as string[],
    isolated: row.isolated === 1,
    modelsRefreshedAt: row.models_refreshed_at,
    createdBy: row.created_by_name,
    ownerId: row.created_by as WorkerView["ownerId"],
    sharedWithEveryone: row.shared_with_everyone === 1,
    sharedWith: (JSON.parse(row.shared_with_json) as string[]).sort(),
    createdAt: row.created_at,
  };
}

/** The worker named by id or name, or a not_found error that says which. */
export function findWorker(ctx: ReadCtx, ref: string): WorkerRow {
  ctx.reads(TABLES.workers);
  const row = ctx.db.prepare(`${SELECT_WORKER} WHERE w.id = ? OR w.name = ?`).get(ref, ref) as WorkerRow | undefined;
  if (!row) throw new FleetError("not_found", `no worker '${ref}' (see: ocfleet worker list)`, { worker: ref });
  return row;
}

/** What an agent needs to run the worker; decrypts the environment overlay. */
export function workerSpec(row: WorkerRow, secrets: SecretKeeper): WorkerSpec {
  const env = row.env_sealed ? (JSON.parse(secrets.decrypt(row.env_sealed)) as Record<string, string>) : {};
  return { id: row.id, directory: row.directory, env, opencodeBinary: row.opencode_binary, isolated: row.isolated === 1 };
}

export const getWorker = internalQuery((ctx, args: { worker: string }) => findWorker(ctx, args.worker));

export const setDesiredState = internalMutation((ctx, args: { workerId: string; desired: "running" | "stopped" }) => {
  ctx.db.prepare("UPDATE workers SET desired_state = ?, updated_at = ? WHERE id = ?").run(args.desired, ctx.now, args.workerId);
  ctx.writes(TABLES.workers, args.workerId);
});

/** The names of a worker's schedules: removing the worker would end them. */
export function schedulesOfWorker(ctx: ReadCtx, workerId: string): string[] {
  ctx.reads(TABLES.schedules);
  return (ctx.db.prepare("SELECT name FROM schedules WHERE worker_id = ? ORDER BY name").all(workerId) as { name: string }[]).map((r) => r.name);
}

export function refuseScheduled(workerName: string, schedules: string[]): FleetError {
  return new FleetError(
    "failed_precondition",
    `worker '${workerName}' has ${schedules.length} schedule(s): ${schedules.join(", ")}; remove them first (ocfleet schedule remove <schedule>), or run: ocfleet worker remove ${workerName} --force (removes them too)`,
    { schedules },
  );
}

/**
 * Forgets a worker. Its chats stay (their worker_id becomes NULL; chats.worker_name keeps the name),
 * so no transcript is lost. Its schedules would stop firing, so it is refused while it has any,
 * unless `force`, which removes them.
 */
export const deleteWorker = internalMutation((ctx, args: { workerId: string; name: string; force: boolean }) => {
  const schedules = schedulesOfWorker(ctx, args.workerId);
  if (schedules.length > 0 && !args.force) throw refuseScheduled(args.name, schedules);
  const schedulesRemoved = ctx.db.prepare("DELETE FROM schedules WHERE worker_id = ?").run(args.workerId).changes;
  if (schedulesRemoved > 0) {
    ctx.writes(TABLES.schedules);
    ctx.writes(TABLES.scheduleRuns);
  }
  const chatsKept = (ctx.db.prepare("SELECT COUNT(*) AS n FROM chats WHERE worker_id = ?").get(args.workerId) as { n: number }).n;
  ctx.db.prepare("DELETE FROM workers WHERE id = ?").run(args.workerId);
  ctx.writes(TABLES.workers, args.workerId);
  ctx.writes(TABLES.workerModels, args.workerId);
  if (chatsKept > 0) ctx.writes(TABLES.chats); // they now show "worker removed"
  return { chatsKept, schedulesRemoved };
});

/** Stores what a machine's agent reports about one of that machine's workers (another machine's worker is left alone). */
export const recordRuntime = internalMutation((ctx, args: { machineId: string; workerId: string; runtime: WorkerRuntime }) => {
  const r = args.runtime;
  const { changes } = ctx.db
    .prepare(
      `UPDATE workers SET run_state = ?, state_reason = ?, pid = ?, started_at = ?, restart_count = ?,
         opencode_version = COALESCE(?, opencode_version),
         state_changed_at = CASE WHEN run_state <> ? THEN ? ELSE state_changed_at END, updated_at = ?
       WHERE id = ? AND machine_id = ?`,
    )
    .run(r.runState, r.reason, r.pid, r.startedAt, r.restartCount, r.opencodeVersion, r.runState, ctx.now, ctx.now, args.workerId, args.machineId);
  if (changes > 0) ctx.writes(TABLES.workers, args.workerId);
});

/** After a daemon restart, nothing is known to run until the agent says so. */
export const resetRuntimes = internalMutation((ctx, args: { machineId: string; reason: string }) => {
  ctx.db
    .prepare(
      `UPDATE workers SET run_state = CASE WHEN run_state = 'error' AND desired_state = 'stopped' THEN 'error' ELSE 'offline' END,
         state_reason = CASE WHEN run_state = 'error' AND desired_state = 'stopped' THEN state_reason ELSE ? END,
         pid = NULL, started_at = NULL, state_changed_at = ?, updated_at = ?
       WHERE machine_id = ?`,
    )
    .run(args.reason, ctx.now, ctx.now, args.machineId);
  ctx.writes(TABLES.workers);
});

export const machineOfWorker = internalQuery((ctx, args: { workerId: string }): string => {
  const row = ctx.db.prepare("SELECT machine_id FROM workers WHERE id = ?").get(args.workerId) as { machine_id: string } | undefined;
  if (!row) throw new FleetError("not_found", `no worker '${args.workerId}'`);
  return row.machine_id;
});

/** Workers of a machine that should be running. */
export const wantedWorkers = internalQuery((ctx, args: { machineId: string }) => {
  return ctx.db
    .prepare(`${SELECT_WORKER} WHERE w.machine_id = ? AND w.desired_state = 'running' AND w.approval = 'approved'`)
    .all(args.machineId) as WorkerRow[];
});
