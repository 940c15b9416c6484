// The machines table: rows, and the internal functions the fleet and the daemon's start-up run
// (registering this machine, heartbeats, marking silent machines offline).
import type { MachineView } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import type { MachineId } from "../../protocol/ids.js";
import type { MachineFacts } from "../agent/link.js";
import { newId } from "../crypto.js";
import { internalMutation, internalQuery } from "./context.js";
import { TABLES } from "./tables.js";

/** A machine whose agent has been silent this long is offline. */
export const OFFLINE_AFTER_MS = 15_000;

export interface MachineRow {
  id: MachineId;
  name: string;
  hostname: string;
  platform: string | null;
  release: string | null;
  arch: string | null;
  agent_version: string | null;
  is_local: number;
  approval: MachineView["approval"];
  online: number;
  last_heartbeat_at: number | null;
  rtt_ms: number | null;
  approval_reason: string | null;
}

/** The machine named by id or name; the local machine when none is named. */
export const resolveMachine = internalQuery((ctx, args: { machine?: string }): MachineRow => {
  ctx.reads(TABLES.machines);
  const row = (
    args.machine === undefined
      ? ctx.db.prepare("SELECT * FROM machines WHERE is_local = 1").get()
      : ctx.db.prepare("SELECT * FROM machines WHERE id = ? OR name = ?").get(args.machine, args.machine)
  ) as MachineRow | undefined;
  if (!row) throw new FleetError("not_found", args.machine === undefined ? "this daemon's machine is not registered yet" : `no machine '${args.machine}'`);
  return row;
});

/** Registers (or refreshes) the machine this daemon runs on, and returns its id. */
export const registerLocalMachine = internalMutation((ctx, facts: MachineFacts): MachineId => {
  ctx.writes(TABLES.machines);
  const existing = ctx.db.prepare("SELECT id FROM machines WHERE is_local = 1").get() as { id: MachineId } | undefined;
  if (existing) {
    ctx.db.prepare("UPDATE machines SET hostname = ?, updated_at = ? WHERE id = ?").run(facts.hostname, ctx.now, existing.id);
    return existing.id;
  }
  const id = newId("machine");
  let name = facts.hostname || "this-machine";
  for (let n = 2; ctx.db.prepare("SELECT 1 FROM machines WHERE name = ?").get(name); n++) name = `${facts.hostname}-${n}`;
  ctx.db
    .prepare("INSERT INTO machines (id, name, hostname, is_local, approval, online, created_at, updated_at) VALUES (?, ?, ?, 1, 'approved', 0, ?, ?)")
    .run(id, name, facts.hostname, ctx.now, ctx.now);
  return id;
});

export const recordHeartbeat = internalMutation((ctx, args: { machineId: string; facts: MachineFacts; at: number }) => {
  const f = args.facts;
  ctx.db
    .prepare(
      `UPDATE machines SET hostname = ?, platform = ?, release = ?, arch = ?, cpus = ?, total_memory_bytes = ?,
         agent_version = ?, online = 1, last_heartbeat_at = ?, updated_at = ? WHERE id = ?`,
    )
    .run(f.hostname, f.platform, f.release, f.arch, f.cpus, f.totalMemoryBytes, f.agentVersion, args.at, ctx.now, args.machineId);
  ctx.writes(TABLES.machines, args.machineId);
});

/**
 * Marks machines offline, with their workers, when their heartbeats stopped for `silentForMs` (or
 * at once, for `machineId`). Returns the workers it took offline, whose turns the hub then gives up.
 */
export const markOffline = internalMutation((ctx, args: { machineId?: string; reason: string; silentForMs?: number }): string[] => {
  const stale = (
    args.machineId !== undefined
      ? ctx.db.prepare("SELECT id FROM machines WHERE id = ? AND online = 1").all(args.machineId)
      : ctx.db.prepare("SELECT id FROM machines WHERE online = 1 AND last_heartbeat_at < ?").all(ctx.now - (args.silentForMs ?? OFFLINE_AFTER_MS))
  ) as { id: string }[];
  const workers: string[] = [];
  for (const { id } of stale) {
    for (const row of ctx.db.prepare("SELECT id FROM workers WHERE machine_id = ? AND run_state <> 'offline'").all(id) as { id: string }[])
      workers.push(row.id);
    ctx.db.prepare("UPDATE machines SET online = 0, updated_at = ? WHERE id = ?").run(ctx.now, id);
    ctx.db
      .prepare(
        `UPDATE workers SET run_state = 'offline', state_reason = ?, pid = NULL, started_at = NULL, state_changed_at = ?, updated_at = ?
         WHERE machine_id = ? AND run_state <> 'offline'`,
      )
      .run(args.reason, ctx.now, ctx.now, id);
    ctx.writes(TABLES.machines, id);
    ctx.writes(TABLES.workers);
  }
  return workers;
});

/** A machine's name, for messages; null if it is gone. */
export const machineNameOf = internalQuery((ctx, args: { machineId: string }): string | null => {
  ctx.reads(TABLES.machines, args.machineId);
  return (ctx.db.prepare("SELECT name FROM machines WHERE id = ?").get(args.machineId) as { name: string } | undefined)?.name ?? null;
});
