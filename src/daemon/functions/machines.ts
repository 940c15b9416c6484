// machines: the fleet's computers. The local one registers itself; heartbeats keep it online.
import { z } from "zod";
import { api, type MachineView } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import type { MachineId } from "../../protocol/ids.js";
import type { MachineFacts } from "../agent/link.js";
import { newId } from "../crypto.js";
import { defineInternalMutation, defineInternalQuery, defineQuery, type QueryCtx } from "./define.js";

const TABLE = "machines";

/** A machine whose agent has been silent this long is offline. */
export const OFFLINE_AFTER_MS = 15_000;

interface MachineRow {
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
}

export const list = defineQuery(api.machines.list, {
  access: "user",
  args: z.strictObject({}),
  handler: (ctx): MachineView[] => {
    ctx.reads(TABLE);
    ctx.reads("workers");
    const counts = new Map<string, MachineView["workers"]>();
    for (const row of ctx.db.prepare("SELECT machine_id, run_state, COUNT(*) AS n FROM workers GROUP BY machine_id, run_state").all() as {
      machine_id: string;
      run_state: string;
      n: number;
    }[]) {
      const c = counts.get(row.machine_id) ?? { total: 0, running: 0, active: 0, error: 0 };
      c.total += row.n;
      if (["starting", "idle", "active"].includes(row.run_state)) c.running += row.n;
      if (row.run_state === "active") c.active += row.n;
      if (row.run_state === "error") c.error += row.n;
      counts.set(row.machine_id, c);
    }
    return (ctx.db.prepare("SELECT * FROM machines ORDER BY is_local DESC, name").all() as MachineRow[]).map((row) => ({
      id: row.id,
      name: row.name,
      hostname: row.hostname,
      platform: row.platform,
      release: row.release,
      arch: row.arch,
      agentVersion: row.agent_version,
      isLocal: row.is_local === 1,
      approval: row.approval,
      online: row.online === 1,
      lastHeartbeatAt: row.last_heartbeat_at,
      workers: counts.get(row.id) ?? { total: 0, running: 0, active: 0, error: 0 },
    }));
  },
});

/** The machine named by id or name; the local machine when none is named. */
export const resolveMachine = defineInternalQuery((ctx: QueryCtx, args: { machine?: string }): MachineRow => {
  ctx.reads(TABLE);
  const row = (
    args.machine === undefined
      ? ctx.db.prepare("SELECT * FROM machines WHERE is_local = 1").get()
      : ctx.db.prepare("SELECT * FROM machines WHERE id = ? OR name = ?").get(args.machine, args.machine)
  ) as MachineRow | undefined;
  if (!row) throw new FleetError("not_found", args.machine === undefined ? "this daemon's machine is not registered yet" : `no machine '${args.machine}'`);
  return row;
});

/** Registers (or refreshes) the machine this daemon runs on, and returns its id. */
export const registerLocalMachine = defineInternalMutation((ctx, facts: MachineFacts): MachineId => {
  ctx.writes(TABLE);
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

export const recordHeartbeat = defineInternalMutation((ctx, args: { machineId: string; facts: MachineFacts; at: number }) => {
  const f = args.facts;
  ctx.db
    .prepare(
      `UPDATE machines SET hostname = ?, platform = ?, release = ?, arch = ?, cpus = ?, total_memory_bytes = ?,
         agent_version = ?, online = 1, last_heartbeat_at = ?, updated_at = ? WHERE id = ?`,
    )
    .run(f.hostname, f.platform, f.release, f.arch, f.cpus, f.totalMemoryBytes, f.agentVersion, args.at, ctx.now, args.machineId);
  ctx.writes(TABLE, args.machineId);
});

/** Marks machines offline, with their workers, when their heartbeats stopped (or at once, for `machineId`). */
export const markOffline = defineInternalMutation((ctx, args: { machineId?: string; reason: string }) => {
  const stale = (
    args.machineId !== undefined
      ? ctx.db.prepare("SELECT id FROM machines WHERE id = ? AND online = 1").all(args.machineId)
      : ctx.db.prepare("SELECT id FROM machines WHERE online = 1 AND last_heartbeat_at < ?").all(ctx.now - OFFLINE_AFTER_MS)
  ) as { id: string }[];
  for (const { id } of stale) {
    ctx.db.prepare("UPDATE machines SET online = 0, updated_at = ? WHERE id = ?").run(ctx.now, id);
    ctx.db
      .prepare(
        `UPDATE workers SET run_state = 'offline', state_reason = ?, pid = NULL, started_at = NULL, state_changed_at = ?, updated_at = ?
         WHERE machine_id = ? AND run_state <> 'offline'`,
      )
      .run(args.reason, ctx.now, ctx.now, id);
    ctx.writes(TABLE, id);
    ctx.writes("workers");
  }
  return stale.length;
});
