// The hub's tables: its network listener's settings, machine invites, and the machines' credentials
// and approval. Secrets arrive here only as keyed digests; comparing them is the caller's (SecretKeeper).
import { FleetError } from "../../protocol/errors.js";
import type { MachineId } from "../../protocol/ids.js";
import type { LinkMachineFacts } from "../../protocol/link.js";
import { newId } from "../crypto.js";
import { internalMutation, internalQuery } from "./context.js";
import type { MachineRow } from "./machines.js";
import { deleteWorker, schedulesOfWorker } from "./workers.js";
import { TABLES } from "./tables.js";

export interface HubSettingsRow {
  enabled: number;
  listen_host: string;
  listen_port: number;
  public_url: string | null;
  tls_cert_path: string | null;
  tls_key_path: string | null;
}

export const readHubSettings = internalQuery((ctx, _args: Record<string, never>): HubSettingsRow | null => {
  ctx.reads(TABLES.hubSettings);
  return (ctx.db.prepare("SELECT * FROM hub_settings WHERE id = 1").get() as HubSettingsRow | undefined) ?? null;
});

export const saveHubSettings = internalMutation((ctx, row: HubSettingsRow) => {
  ctx.db
    .prepare(
      `INSERT INTO hub_settings (id, enabled, listen_host, listen_port, public_url, tls_cert_path, tls_key_path, updated_at)
       VALUES (1, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled, listen_host = excluded.listen_host, listen_port = excluded.listen_port,
         public_url = excluded.public_url, tls_cert_path = excluded.tls_cert_path, tls_key_path = excluded.tls_key_path, updated_at = excluded.updated_at`,
    )
    .run(row.enabled, row.listen_host, row.listen_port, row.public_url, row.tls_cert_path, row.tls_key_path, ctx.now);
  ctx.writes(TABLES.hubSettings);
});

export const setHubEnabled = internalMutation((ctx, args: { enabled: boolean }) => {
  ctx.db.prepare("UPDATE hub_settings SET enabled = ?, updated_at = ? WHERE id = 1").run(args.enabled ? 1 : 0, ctx.now);
  ctx.writes(TABLES.hubSettings);
});

export const createInvite = internalMutation(
  (ctx, args: { secretDigest: string; name: string | null; preApproved: boolean; createdBy: string | null; expiresAt: number }) => {
    const id = newId("invite");
    ctx.db
      .prepare("INSERT INTO machine_invites (id, secret_digest, name, pre_approved, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(id, args.secretDigest, args.name, args.preApproved ? 1 : 0, args.createdBy, ctx.now, args.expiresAt);
    ctx.writes(TABLES.invites);
    return id;
  },
);

function uniqueMachineName(ctx: { db: import("../db/open.js").Db }, wanted: string): string {
  const base = wanted.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 64) || "machine";
  let name = base;
  for (let n = 2; ctx.db.prepare("SELECT 1 FROM machines WHERE name = ?").get(name); n++) name = `${base}-${n}`;
  return name;
}

/**
 * Uses an invite up (single use, before it expires) and registers the machine that presented it,
 * with the digest of its new credential. The same refusal for unknown, used and expired invites'
 * callers would not help an attacker, but a user deserves to know which: the message says it.
 */
export const redeemInvite = internalMutation(
  (
    ctx,
    args: { secretDigest: string; credentialDigest: string; facts: LinkMachineFacts; name: string | undefined },
  ): { machineId: MachineId; name: string; approval: "pending" | "approved" } => {
    const invite = ctx.db.prepare("SELECT * FROM machine_invites WHERE secret_digest = ?").get(args.secretDigest) as
      | { id: string; name: string | null; pre_approved: number; expires_at: number; used_at: number | null }
      | undefined;
    if (!invite) throw new FleetError("unauthenticated", "this invite is not known to the hub; ask for a new one (ocfleet machine invite)");
    if (invite.used_at !== null) throw new FleetError("unauthenticated", "this invite was used already; ask for a new one (ocfleet machine invite)");
    if (invite.expires_at <= ctx.now) throw new FleetError("unauthenticated", "this invite has expired; ask for a new one (ocfleet machine invite)");
    const id = newId("machine");
    const name = uniqueMachineName(ctx, invite.name ?? args.name ?? args.facts.hostname);
    const approval = invite.pre_approved === 1 ? "approved" : "pending";
    const f = args.facts;
    ctx.db
      .prepare(
        `INSERT INTO machines (id, name, hostname, platform, release, arch, cpus, total_memory_bytes, agent_version, is_local, approval,
           online, credential_digest, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 0, ?, ?, ?)`,
      )
      .run(id, name, f.hostname, f.platform, f.release, f.arch, f.cpus, f.totalMemoryBytes, f.agentVersion, approval, args.credentialDigest, ctx.now, ctx.now);
    ctx.db.prepare("UPDATE machine_invites SET used_at = ?, machine_id = ? WHERE id = ?").run(ctx.now, id, invite.id);
    ctx.writes(TABLES.invites);
    ctx.writes(TABLES.machines);
    return { machineId: id, name, approval };
  },
);

export interface MachineLinkRow extends MachineRow {
  credential_digest: string | null;
  approval_reason: string | null;
  last_report_seq: number;
}

export const machineForLink = internalQuery((ctx, args: { machineId: string }): MachineLinkRow | null => {
  ctx.reads(TABLES.machines, args.machineId);
  return (ctx.db.prepare("SELECT * FROM machines WHERE id = ? AND is_local = 0").get(args.machineId) as MachineLinkRow | undefined) ?? null;
});

/** A remote machine by id or name, or not_found; the hub's own machine is not one. */
export const findRemoteMachine = internalQuery((ctx, args: { machine: string }): MachineLinkRow => {
  ctx.reads(TABLES.machines);
  const row = ctx.db.prepare("SELECT * FROM machines WHERE id = ? OR name = ?").get(args.machine, args.machine) as MachineLinkRow | undefined;
  if (!row) throw new FleetError("not_found", `no machine '${args.machine}' (see: ocfleet machine list)`);
  if (row.is_local === 1) throw new FleetError("failed_precondition", `'${row.name}' is the hub's own machine`);
  return row;
});

export const setApproval = internalMutation((ctx, args: { machineId: string; approval: "approved" | "revoked"; reason: string | null }) => {
  ctx.db.prepare("UPDATE machines SET approval = ?, approval_reason = ?, updated_at = ? WHERE id = ?").run(args.approval, args.reason, ctx.now, args.machineId);
  ctx.writes(TABLES.machines, args.machineId);
});

export const renameMachine = internalMutation((ctx, args: { machineId: string; name: string }) => {
  if (ctx.db.prepare("SELECT 1 FROM machines WHERE name = ? AND id <> ?").get(args.name, args.machineId)) {
    throw new FleetError("already_exists", `a machine named '${args.name}' exists already`, { field: "name" });
  }
  ctx.db.prepare("UPDATE machines SET name = ?, updated_at = ? WHERE id = ?").run(args.name, ctx.now, args.machineId);
  ctx.writes(TABLES.machines, args.machineId);
  ctx.writes(TABLES.workers);
});

/** The schedules on a machine's workers ("worker: schedule"), which removing the machine would stop. */
export const schedulesOfMachine = internalQuery((ctx, args: { machineId: string }): string[] => {
  const names: string[] = [];
  for (const w of ctx.db.prepare("SELECT id, name FROM workers WHERE machine_id = ? ORDER BY name").all(args.machineId) as { id: string; name: string }[]) {
    for (const schedule of schedulesOfWorker(ctx, w.id)) names.push(`${w.name}: ${schedule}`);
  }
  return names;
});

/**
 * Deletes a machine and its workers, as `worker remove` does each of them: their chats stay,
 * readable and marked with the machine's removal. Schedules on them would stop firing, so they are refused
 * unless `force`, which removes them too.
 */
export const deleteMachine = internalMutation((ctx, args: { machineId: string; name: string; force: boolean }) => {
  const schedules = schedulesOfMachine.handler(ctx, { machineId: args.machineId });
  if (schedules.length > 0 && !args.force) throw refuseMachineSchedules(args.name, schedules);
  const workers = ctx.db.prepare("SELECT id, name FROM workers WHERE machine_id = ? ORDER BY name").all(args.machineId) as { id: string; name: string }[];
  let chatsKept = 0;
  let schedulesRemoved = 0;
  ctx.db.prepare("UPDATE chats SET removed_machine = ? WHERE worker_id IN (SELECT id FROM workers WHERE machine_id = ?)").run(args.name, args.machineId);
  for (const worker of workers) {
    const outcome = deleteWorker.handler(ctx, { workerId: worker.id, name: worker.name, force: true });
    chatsKept += outcome.chatsKept;
    schedulesRemoved += outcome.schedulesRemoved;
  }
  ctx.db.prepare("DELETE FROM machines WHERE id = ?").run(args.machineId);
  ctx.writes(TABLES.machines, args.machineId);
  return { workersRemoved: workers.map((w) => w.name), chatsKept, schedulesRemoved };
});

export function refuseMachineSchedules(machine: string, schedules: string[]): FleetError {
  return new FleetError(
    "failed_precondition",
    `machine '${machine}' has ${schedules.length} schedule(s) on its workers (${schedules.join(", ")}); remove them first, or run: ocfleet machine remove ${machine} --force (removes them too)`,
    { schedules },
  );
}

export const recordRtt = internalMutation((ctx, args: { machineId: string; rttMs: number }) => {
  ctx.db.prepare("UPDATE machines SET rtt_ms = ? WHERE id = ?").run(Math.round(args.rttMs), args.machineId);
  ctx.writes(TABLES.machines, args.machineId);
});
