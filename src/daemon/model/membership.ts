// On a joined machine: its membership of a hub (one row), which the dialer keeps current so that
// `machine join` and `membership.status` watchers see each step live.
import type { MembershipView } from "../../protocol/api/membership.js";
import { internalMutation, internalQuery } from "./context.js";
import { TABLES } from "./tables.js";

export interface MembershipRow {
  hub_url: string;
  fingerprint: string;
  name: string | null;
  machine_id: string | null;
  credential_sealed: string | null;
  invite_sealed: string | null;
  state: MembershipView["state"];
  state_reason: string | null;
  connected: number;
  last_error: string | null;
  joined_at: number;
}

export function toMembershipView(row: MembershipRow): MembershipView {
  return {
    hubUrl: row.hub_url,
    fingerprint: row.fingerprint,
    machineId: row.machine_id,
    name: row.name,
    state: row.state,
    reason: row.state_reason,
    connected: row.connected === 1,
    lastError: row.last_error,
    joinedAt: row.joined_at,
  };
}

export const readMembership = internalQuery((ctx, _args: Record<string, never>): MembershipRow | null => {
  ctx.reads(TABLES.membership);
  return (ctx.db.prepare("SELECT * FROM hub_membership WHERE id = 1").get() as MembershipRow | undefined) ?? null;
});

export const createMembership = internalMutation((ctx, args: { hubUrl: string; fingerprint: string; name: string | null; inviteSealed: string }) => {
  ctx.db
    .prepare(
      `INSERT INTO hub_membership (id, hub_url, fingerprint, name, invite_sealed, state, joined_at, updated_at)
       VALUES (1, ?, ?, ?, ?, 'joining', ?, ?)`,
    )
    .run(args.hubUrl, args.fingerprint, args.name, args.inviteSealed, ctx.now, ctx.now);
  ctx.writes(TABLES.membership);
});

const COLUMNS = ["name", "machine_id", "credential_sealed", "invite_sealed", "state", "state_reason", "connected", "last_error"] as const;

export const updateMembership = internalMutation((ctx, changes: Partial<Pick<MembershipRow, (typeof COLUMNS)[number]>>) => {
  const keys = COLUMNS.filter((key) => key in changes);
  if (keys.length === 0) return;
  ctx.db
    .prepare(`UPDATE hub_membership SET ${keys.map((key) => `${key} = ?`).join(", ")}, updated_at = ? WHERE id = 1`)
    .run(...keys.map((key) => changes[key] ?? null), ctx.now);
  ctx.writes(TABLES.membership);
});

export const deleteMembership = internalMutation((ctx, _args: Record<string, never>) => {
  ctx.db.prepare("DELETE FROM hub_membership").run();
  ctx.db.prepare("DELETE FROM link_outbox").run();
  ctx.writes(TABLES.membership);
});
