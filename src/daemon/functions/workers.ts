// workers: OpenCode servers bound to a directory on a machine. Commands go to the machine's agent
// through its link; the agent's reports come back as internal mutations, so every change is live.
import { basename } from "node:path";
import { z } from "zod";
import { api, type WorkerView } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import type { WorkerId } from "../../protocol/ids.js";
import type { WorkerRuntime, WorkerSpec } from "../agent/link.js";
import { newId } from "../crypto.js";
import type { SecretKeeper } from "../crypto.js";
import { defineAction, defineInternalMutation, defineInternalQuery, defineQuery, type ActionCtx, type QueryCtx } from "./define.js";
import { resolveMachine } from "./machines.js";

const TABLE = "workers";

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
  models_refreshed_at: number | null;
  created_by: string | null;
  created_by_name: string | null;
  created_at: number;
}

const SELECT_WORKER = `SELECT w.*, m.name AS machine_name, u.name AS created_by_name
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
    modelsRefreshedAt: row.models_refreshed_at,
    createdBy: row.created_by_name,
    createdAt: row.created_at,
  };
}

/** The worker named by id or name, or a not_found error that says which. */
export function findWorker(ctx: QueryCtx, ref: string): WorkerRow {
  ctx.reads(TABLE);
  const row = ctx.db.prepare(`${SELECT_WORKER} WHERE w.id = ? OR w.name = ?`).get(ref, ref) as WorkerRow | undefined;
  if (!row) throw new FleetError("not_found", `no worker '${ref}' (see: ocfleet worker list)`, { worker: ref });
  return row;
}

/** What an agent needs to run the worker; decrypts the environment overlay. */
export function workerSpec(row: WorkerRow, secrets: SecretKeeper): WorkerSpec {
  const env = row.env_sealed ? (JSON.parse(secrets.decrypt(row.env_sealed)) as Record<string, string>) : {};
  return { id: row.id, directory: row.directory, env, opencodeBinary: row.opencode_binary };
}

const workerRef = { worker: z.string().trim().min(1, "must name a worker (id or name)") };

const getWorker = defineInternalQuery((ctx, args: { worker: string }) => findWorker(ctx, args.worker));

/** Only the worker's creator or an admin may start, stop or remove it. */
function requireControl(ctx: ActionCtx<"user">, row: WorkerRow, action: string): void {
  if (ctx.user.level === "system_admin" || row.created_by === ctx.user.id) return;
  throw new FleetError("permission_denied", `only ${row.created_by_name ?? "its creator"} or an admin can ${action} worker '${row.name}'`);
}

export const list = defineQuery(api.workers.list, {
  access: "user",
  args: z.strictObject({ machine: z.string().trim().min(1).optional() }),
  handler: (ctx, { machine }) => {
    ctx.reads(TABLE);
    ctx.reads("machines");
    const rows =
      machine === undefined
        ? (ctx.db.prepare(`${SELECT_WORKER} ORDER BY m.name, w.name`).all() as WorkerRow[])
        : (ctx.db.prepare(`${SELECT_WORKER} WHERE m.id = ? OR m.name = ? ORDER BY w.name`).all(machine, machine) as WorkerRow[]);
    return rows.map(toWorkerView);
  },
});

export const get = defineQuery(api.workers.get, {
  access: "user",
  args: z.strictObject(workerRef),
  handler: (ctx, { worker }) => toWorkerView(findWorker(ctx, worker)),
});

const insertWorker = defineInternalMutation(
  (
    ctx,
    args: { machineId: string; directory: string; name: string | undefined; env: Record<string, string>; opencodeBinary: string | null; createdBy: string },
  ) => {
    const duplicate = ctx.db.prepare("SELECT name FROM workers WHERE machine_id = ? AND directory = ?").get(args.machineId, args.directory) as
      | { name: string }
      | undefined;
    if (duplicate)
      throw new FleetError("already_exists", `worker '${duplicate.name}' already serves ${args.directory} on this machine`, { field: "directory" });
    let name = args.name;
    if (name !== undefined && ctx.db.prepare("SELECT 1 FROM workers WHERE name = ?").get(name)) {
      throw new FleetError("already_exists", `a worker named '${name}' exists already; pick another --name`, { field: "name" });
    }
    if (name === undefined) {
      const base = basename(args.directory) || "worker";
      name = base;
      for (let n = 2; ctx.db.prepare("SELECT 1 FROM workers WHERE name = ?").get(name); n++) name = `${base}-${n}`;
    }
    const id = newId("worker");
    const keys = Object.keys(args.env).sort();
    ctx.db
      .prepare(
        `INSERT INTO workers (id, machine_id, name, directory, approval, desired_state, run_state, state_reason, state_changed_at,
           opencode_binary, env_sealed, env_keys, created_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'approved', 'running', 'starting', 'registered', ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        args.machineId,
        name,
        args.directory,
        ctx.now,
        args.opencodeBinary,
        keys.length > 0 ? ctx.services.secrets.encrypt(JSON.stringify(args.env)) : null,
        JSON.stringify(keys),
        args.createdBy,
        ctx.now,
        ctx.now,
      );
    ctx.writes(TABLE, id);
    return findWorker(ctx, id);
  },
);

const setDesiredState = defineInternalMutation((ctx, args: { workerId: string; desired: "running" | "stopped" }) => {
  ctx.db.prepare("UPDATE workers SET desired_state = ?, updated_at = ? WHERE id = ?").run(args.desired, ctx.now, args.workerId);
  ctx.writes(TABLE, args.workerId);
});

const deleteWorker = defineInternalMutation((ctx, args: { workerId: string }) => {
  ctx.db.prepare("DELETE FROM workers WHERE id = ?").run(args.workerId);
  ctx.writes(TABLE, args.workerId);
  ctx.writes("worker_models", args.workerId);
});

/** Stores what the agent reports about a worker's process. */
export const recordRuntime = defineInternalMutation((ctx, args: { workerId: string; runtime: WorkerRuntime }) => {
  const r = args.runtime;
  const { changes } = ctx.db
    .prepare(
      `UPDATE workers SET run_state = ?, state_reason = ?, pid = ?, started_at = ?, restart_count = ?,
         opencode_version = COALESCE(?, opencode_version),
         state_changed_at = CASE WHEN run_state <> ? THEN ? ELSE state_changed_at END, updated_at = ?
       WHERE id = ?`,
    )
    .run(r.runState, r.reason, r.pid, r.startedAt, r.restartCount, r.opencodeVersion, r.runState, ctx.now, ctx.now, args.workerId);
  if (changes > 0) ctx.writes(TABLE, args.workerId);
});

/** After a daemon restart, nothing is known to run until the agent says so. */
export const resetRuntimes = defineInternalMutation((ctx, args: { machineId: string; reason: string }) => {
  ctx.db
    .prepare(
      `UPDATE workers SET run_state = CASE WHEN run_state = 'error' AND desired_state = 'stopped' THEN 'error' ELSE 'offline' END,
         state_reason = CASE WHEN run_state = 'error' AND desired_state = 'stopped' THEN state_reason ELSE ? END,
         pid = NULL, started_at = NULL, state_changed_at = ?, updated_at = ?
       WHERE machine_id = ?`,
    )
    .run(args.reason, ctx.now, ctx.now, args.machineId);
  ctx.writes(TABLE);
});

export const machineOfWorker = defineInternalQuery((ctx, args: { workerId: string }): string => {
  const row = ctx.db.prepare("SELECT machine_id FROM workers WHERE id = ?").get(args.workerId) as { machine_id: string } | undefined;
  if (!row) throw new FleetError("not_found", `no worker '${args.workerId}'`);
  return row.machine_id;
});

/** Workers of a machine that should be running. */
export const wantedWorkers = defineInternalQuery((ctx, args: { machineId: string }) => {
  return ctx.db
    .prepare(`${SELECT_WORKER} WHERE w.machine_id = ? AND w.desired_state = 'running' AND w.approval = 'approved'`)
    .all(args.machineId) as WorkerRow[];
});

const envArg = z.record(z.string(), z.string()).superRefine((env, ctx) => {
  for (const key of Object.keys(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: `'${key}' is not a valid environment variable name (letters, digits and _, not starting with a digit)`,
      });
    }
  }
  if (JSON.stringify(env).length > 1024 * 1024) ctx.addIssue({ code: "custom", message: "the environment overlay must be under 1 MiB" });
});

export const add = defineAction(api.workers.add, {
  access: "user",
  args: z.strictObject({
    directory: z.string().min(1, "must not be empty"),
    name: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be 1-64 letters, digits, '.', '_' or '-'")
      .optional(),
    machine: z.string().trim().min(1).optional(),
    env: envArg.optional(),
    opencodeBinary: z.string().min(1).optional(),
  }),
  handler: async (ctx, args) => {
    const machine = ctx.runQuery(resolveMachine, { machine: args.machine });
    const link = ctx.services.fleet.linkFor(machine.id);
    const { directory } = await link.command("directory.inspect", { directory: args.directory });
    const row = ctx.runMutation(insertWorker, {
      machineId: machine.id,
      directory,
      name: args.name,
      env: args.env ?? {},
      opencodeBinary: args.opencodeBinary ?? null,
      createdBy: ctx.user.id,
    });
    await link.command("worker.start", { worker: workerSpec(row, ctx.services.secrets) });
    return toWorkerView(ctx.runQuery(getWorker, { worker: row.id }));
  },
});

export const start = defineAction(api.workers.start, {
  access: "user",
  args: z.strictObject(workerRef),
  handler: async (ctx, { worker }) => {
    const row = ctx.runQuery(getWorker, { worker });
    requireControl(ctx, row, "start");
    if (row.desired_state === "running" && ["starting", "idle", "active"].includes(row.run_state)) {
      throw new FleetError("failed_precondition", `worker '${row.name}' is already running (${row.run_state})`);
    }
    await ctx.services.fleet.linkFor(row.machine_id).command("worker.start", { worker: workerSpec(row, ctx.services.secrets) });
    ctx.runMutation(setDesiredState, { workerId: row.id, desired: "running" });
    return toWorkerView(ctx.runQuery(getWorker, { worker: row.id }));
  },
});

export const stop = defineAction(api.workers.stop, {
  access: "user",
  args: z.strictObject(workerRef),
  handler: async (ctx, { worker }) => {
    const row = ctx.runQuery(getWorker, { worker });
    requireControl(ctx, row, "stop");
    ctx.runMutation(setDesiredState, { workerId: row.id, desired: "stopped" });
    await ctx.services.fleet.linkFor(row.machine_id).command("worker.stop", { workerId: row.id });
    return toWorkerView(ctx.runQuery(getWorker, { worker: row.id }));
  },
});

export const restart = defineAction(api.workers.restart, {
  access: "user",
  args: z.strictObject(workerRef),
  handler: async (ctx, { worker }) => {
    const row = ctx.runQuery(getWorker, { worker });
    requireControl(ctx, row, "restart");
    ctx.runMutation(setDesiredState, { workerId: row.id, desired: "running" });
    await ctx.services.fleet.linkFor(row.machine_id).command("worker.restart", { worker: workerSpec(row, ctx.services.secrets) });
    return toWorkerView(ctx.runQuery(getWorker, { worker: row.id }));
  },
});

export const remove = defineAction(api.workers.remove, {
  access: "user",
  args: z.strictObject(workerRef),
  handler: async (ctx, { worker }) => {
    const row = ctx.runQuery(getWorker, { worker });
    requireControl(ctx, row, "remove");
    await ctx.services.fleet.linkFor(row.machine_id).command("worker.remove", { workerId: row.id });
    ctx.runMutation(deleteWorker, { workerId: row.id });
    return { removed: true as const, id: row.id };
  },
});

export const readLog = defineAction(api.workers.readLog, {
  access: "user",
  args: z.strictObject({
    ...workerRef,
    offset: z.number().int().min(0).optional(),
    maxBytes: z
      .number()
      .int()
      .min(1)
      .max(1024 * 1024)
      .optional(),
  }),
  handler: async (ctx, { worker, offset, maxBytes }) => {
    const row = ctx.runQuery(getWorker, { worker });
    return ctx.services.fleet.linkFor(row.machine_id).command("worker.readLog", { workerId: row.id, offset: offset ?? null, maxBytes: maxBytes ?? 16 * 1024 });
  },
});
