// The audit log: every admin action, who did it to whom, with details that never hold a secret.
import type { AuditEntry } from "../../protocol/api/admin.js";
import type { UserId } from "../../protocol/ids.js";
import type { Db } from "../db/open.js";
import type { CallerUser } from "../model/context.js";

/** Live-query table for the audit log (one partition: "*"). */

export interface AuditRecord {
  action: string;
  /** What the action was done to, e.g. a user id or "google". */
  target?: string | null;
  /** Plain facts only: never a secret, token or code. */
  details?: Record<string, unknown>;
}

export function writeAudit(db: Db, actor: CallerUser, now: number, record: AuditRecord): void {
  db.prepare("INSERT INTO audit_log (at, actor_id, actor_name, action, target, details) VALUES (?, ?, ?, ?, ?, ?)").run(
    now,
    actor.id,
    actor.name,
    record.action,
    record.target ?? null,
    JSON.stringify(record.details ?? {}),
  );
}

export function readAudit(db: Db, limit: number): AuditEntry[] {
  const rows = db.prepare("SELECT id, at, actor_id, actor_name, action, target, details FROM audit_log ORDER BY id DESC LIMIT ?").all(limit) as Array<{
    id: number;
    at: number;
    actor_id: UserId | null;
    actor_name: string;
    action: string;
    target: string | null;
    details: string;
  }>;
  return rows.map((row) => ({
    id: row.id,
    at: row.at,
    actorId: row.actor_id,
    actor: row.actor_name,
    action: row.action,
    target: row.target,
    details: JSON.parse(row.details) as Record<string, unknown>,
  }));
}
