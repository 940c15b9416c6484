// workers: OpenCode servers bound to a directory on a machine. Commands go to the machine's agent
// through its link; the agent's reports come back as internal mutations (model/workers.ts), so every change is live.
// Who may do what with a worker is decided in model/workerAccess.ts; these handlers only ask it.
import { basename } from "node:path";
import { z } from "zod";
import { api } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import { resolveUserRef } from "../accounts/users.js";
import { newId } from "../crypto.js";
import { resolveMachine } from "../model/machines.js";
import { TABLES } from "../model/tables.js";
import { adminOnlySettings, findWorkerFor, requireWorkerRight, VISIBLE_WORKER_SQL, visibleWorkerParams } from "../model/workerAccess.js";
import {
  deleteWorker,
  findWorker,
  refuseScheduled,
  schedulesOfWorker,
  SELECT_WORKER,
  setDesiredState,
  toWorkerView,
  workerSpec,
  type WorkerRow,
} from "../model/workers.js";
import { userRefArg } from "./args.js";
import { defineAction, defineInternalMutation, defineInternalQuery, defineMutation, defineQuery } from "./define.js";

const workerRef = { worker: z.string().trim().min(1, "must name a worker (id or name)") };

/** The worker as the caller may see it, and the caller needs `right` on it to `action` it. */
const workerFor = defineInternalQuery((ctx, args: { worker: string; right: "control" | "use"; action: string }): WorkerRow => {
  const { row, rights } = findWorkerFor(ctx, ctx.user!, args.worker);
  requireWorkerRight(rights, row, args.right, args.action);
  return row;
});

const viewOf = defineInternalQuery((ctx, args: { workerId: string }) => toWorkerView(findWorker(ctx, args.workerId)));

export const list = defineQuery(api.workers.list, {
  access: "user",
  args: z.strictObject({ machine: z.string().trim().min(1).optional() }),
  handler: (ctx, { machine }) => {
    ctx.reads(TABLES.workers);
    ctx.reads(TABLES.machines);
    const visible = visibleWorkerParams(ctx.user);
    const rows =
      machine === undefined
        ? (ctx.db.prepare(`${SELECT_WORKER} WHERE ${VISIBLE_WORKER_SQL} ORDER BY m.name, w.name`).all(...visible) as WorkerRow[])
        : (ctx.db
            .prepare(`${SELECT_WORKER} WHERE (m.id = ? OR m.name = ?) AND ${VISIBLE_WORKER_SQL} ORDER BY w.name`)
            .all(machine, machine, ...visible) as WorkerRow[]);
    return rows.map(toWorkerView);
  },
});

export const get = defineQuery(api.workers.get, {
  access: "user",
  args: z.strictObject(workerRef),
  handler: (ctx, { worker }) => toWorkerView(findWorkerFor(ctx, ctx.user, worker).row),
});

const insertWorker = defineInternalMutation(
  (
    ctx,
    args: {
      machineId: string;
      directory: string;
      name: string | undefined;
      env: Record<string, string>;
      opencodeBinary: string | null;
      isolated: boolean;
      createdBy: string;
    },
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
           opencode_binary, env_sealed, env_keys, isolated, created_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'approved', 'running', 'starting', 'registered', ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        args.isolated ? 1 : 0,
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
    isolated: z.boolean().optional(),
  }),
  handler: async (ctx, args) => {
    adminOnlySettings(ctx.user, args);
    const machine = ctx.runQuery(resolveMachine, { machine: args.machine });
    const link = ctx.services.fleet.linkFor(machine.id);
    const { directory } = await link.command("directory.inspect", { directory: args.directory });
    const row = ctx.runMutation(insertWorker, {
      machineId: machine.id,
      directory,
      name: args.name,
      env: args.env ?? {},
      opencodeBinary: args.opencodeBinary ?? null,
      isolated: args.isolated === true,
      createdBy: ctx.user.id,
    });
    await link.command("worker.start", { worker: workerSpec(row, ctx.services.secrets) });
    return ctx.runQuery(viewOf, { workerId: row.id });
  },
});

const RUNNING = ["starting", "idle", "active"];

export const start = defineAction(api.workers.start, {
  access: "user",
  args: z.strictObject(workerRef),
  handler: async (ctx, { worker }) => {
    const row = ctx.runQuery(workerFor, { worker, right: "control", action: "start" });
    if (row.desired_state === "running" && RUNNING.includes(row.run_state)) return { ...toWorkerView(row), already: true };
    await ctx.services.fleet.linkFor(row.machine_id).command("worker.start", { worker: workerSpec(row, ctx.services.secrets) });
    ctx.runMutation(setDesiredState, { workerId: row.id, desired: "running" });
    return { ...ctx.runQuery(viewOf, { workerId: row.id }), already: false };
  },
});

export const stop = defineAction(api.workers.stop, {
  access: "user",
  args: z.strictObject(workerRef),
  handler: async (ctx, { worker }) => {
    const row = ctx.runQuery(workerFor, { worker, right: "control", action: "stop" });
    if (row.desired_state === "stopped" && !RUNNING.includes(row.run_state)) return { ...toWorkerView(row), already: true };
    ctx.runMutation(setDesiredState, { workerId: row.id, desired: "stopped" });
    await ctx.services.fleet.linkFor(row.machine_id).command("worker.stop", { workerId: row.id });
    return { ...ctx.runQuery(viewOf, { workerId: row.id }), already: false };
  },
});

export const restart = defineAction(api.workers.restart, {
  access: "user",
  args: z.strictObject(workerRef),
  handler: async (ctx, { worker }) => {
    const row = ctx.runQuery(workerFor, { worker, right: "control", action: "restart" });
    ctx.runMutation(setDesiredState, { workerId: row.id, desired: "running" });
    await ctx.services.fleet.linkFor(row.machine_id).command("worker.restart", { worker: workerSpec(row, ctx.services.secrets) });
    return ctx.runQuery(viewOf, { workerId: row.id });
  },
});

const scheduleNames = defineInternalQuery((ctx, args: { workerId: string }) => schedulesOfWorker(ctx, args.workerId));

export const remove = defineAction(api.workers.remove, {
  access: "user",
  args: z.strictObject({ ...workerRef, force: z.boolean().optional() }),
  handler: async (ctx, { worker, force }) => {
    const row = ctx.runQuery(workerFor, { worker, right: "control", action: "remove" });
    // Refused before the worker is stopped; the mutation checks again, in its transaction.
    const schedules = ctx.runQuery(scheduleNames, { workerId: row.id });
    if (schedules.length > 0 && !force) throw refuseScheduled(row.name, schedules);
    await ctx.services.fleet.linkFor(row.machine_id).command("worker.remove", { workerId: row.id });
    const outcome = ctx.runMutation(deleteWorker, { workerId: row.id, name: row.name, force: force === true });
    return { removed: true as const, id: row.id, name: row.name, ...outcome };
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
    const row = ctx.runQuery(workerFor, { worker, right: "control", action: "read the logs of" });
    return ctx.services.fleet.linkFor(row.machine_id).command("worker.readLog", { workerId: row.id, offset: offset ?? null, maxBytes: maxBytes ?? 16 * 1024 });
  },
});

const shareArgs = z
  .strictObject({ ...workerRef, with: userRefArg.optional(), everyone: z.literal(true).optional() })
  .refine((a) => (a.with !== undefined) !== (a.everyone === true), { message: "give either a user or everyone, not both", path: ["with"] });

export const share = defineMutation(api.workers.share, {
  access: "user",
  args: shareArgs,
  handler: (ctx, args) => {
    const { row, rights } = findWorkerFor(ctx, ctx.user, args.worker);
    requireWorkerRight(rights, row, "control", "share");
    if (args.everyone) {
      ctx.db.prepare("UPDATE workers SET shared_with_everyone = 1, updated_at = ? WHERE id = ?").run(ctx.now, row.id);
    } else {
      const user = resolveUserRef(ctx.db, args.with!);
      ctx.db
        .prepare("INSERT INTO worker_shares (worker_id, user_id, shared_by, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
        .run(row.id, user.id, ctx.user.id, ctx.now);
    }
    ctx.writes(TABLES.workers, row.id);
    return toWorkerView(findWorker(ctx, row.id));
  },
});

export const unshare = defineMutation(api.workers.unshare, {
  access: "user",
  args: z.strictObject({ ...workerRef, with: userRefArg.optional(), everyone: z.literal(true).optional() }),
  handler: (ctx, args) => {
    const { row, rights } = findWorkerFor(ctx, ctx.user, args.worker);
    requireWorkerRight(rights, row, "control", "unshare");
    const all = args.with === undefined && args.everyone === undefined;
    if (args.everyone || all) ctx.db.prepare("UPDATE workers SET shared_with_everyone = 0, updated_at = ? WHERE id = ?").run(ctx.now, row.id);
    if (args.with !== undefined) {
      const user = resolveUserRef(ctx.db, args.with);
      ctx.db.prepare("DELETE FROM worker_shares WHERE worker_id = ? AND user_id = ?").run(row.id, user.id);
    }
    if (all) ctx.db.prepare("DELETE FROM worker_shares WHERE worker_id = ?").run(row.id);
    ctx.writes(TABLES.workers, row.id);
    return toWorkerView(findWorker(ctx, row.id));
  },
});
