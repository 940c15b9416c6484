// workers: OpenCode servers bound to a directory on a machine. Commands go to the machine's agent
// through its link; the agent's reports come back as internal mutations (model/workers.ts), so every change is live.
import { basename } from "node:path";
import { z } from "zod";
import { api } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import { newId } from "../crypto.js";
import { resolveMachine } from "../model/machines.js";
import { TABLES } from "../model/tables.js";
import { deleteWorker, findWorker, getWorker, SELECT_WORKER, setDesiredState, toWorkerView, workerSpec, type WorkerRow } from "../model/workers.js";
import { defineAction, defineInternalMutation, defineQuery, type ActionCtx } from "./define.js";

const workerRef = { worker: z.string().trim().min(1, "must name a worker (id or name)") };

/** Only the worker's creator or an admin may start, stop or remove it. */
function requireControl(ctx: ActionCtx<"user">, row: WorkerRow, action: string): void {
  if (ctx.user.level === "system_admin" || row.created_by === ctx.user.id) return;
  throw new FleetError("permission_denied", `only ${row.created_by_name ?? "its creator"} or an admin can ${action} worker '${row.name}'`);
}

export const list = defineQuery(api.workers.list, {
  access: "user",
  args: z.strictObject({ machine: z.string().trim().min(1).optional() }),
  handler: (ctx, { machine }) => {
    ctx.reads(TABLES.workers);
    ctx.reads(TABLES.machines);
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
    ctx.writes(TABLES.workers, id);
    return findWorker(ctx, id);
  },
);

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
