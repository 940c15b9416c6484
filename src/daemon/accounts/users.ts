// Users: creating them, reading them as the API shows them, and finding one by what an admin types.
import type { AdminUserView } from "../../protocol/api/admin.js";
import type { UserLevel, UserSummary } from "../../protocol/api/auth.js";
import { FleetError } from "../../protocol/errors.js";
import { looksLikeId, type UserId } from "../../protocol/ids.js";
import { newId } from "../crypto.js";
import type { Db } from "../db/open.js";
import { TABLES } from "../model/tables.js";

/** Live-query table for users: key = user id, or "*" for lists. */

/** The users table\'s live-query name, for the connection. */
export const USERS_TABLE = TABLES.users;

export interface UserRow {
  id: UserId;
  name: string;
  email: string | null;
  level: UserLevel;
  is_owner: 0 | 1;
  is_anonymous: 0 | 1;
  /** Set while an admin has disabled the user: every sign-in refuses them and their schedules skip. */
  disabled_at: number | null;
  disabled_by: string | null;
  disabled_reason: string | null;
  created_at: number;
  updated_at: number;
}

/** Refuses a disabled user, saying who may undo it. Every way of signing in goes through this. */
export function assertNotDisabled(row: UserRow): void {
  if (row.disabled_at === null) return;
  const why = row.disabled_reason ? ` (${row.disabled_reason})` : "";
  throw new FleetError("permission_denied", `this account is disabled by an admin${why}; an admin can enable it with: ocfleet admin users enable ${row.name}`);
}

export function toUserSummary(row: UserRow): UserSummary {
  return {
    id: row.id,
    name: row.name,
    level: row.level,
    anonymous: row.is_anonymous === 1,
    isOwner: row.is_owner === 1,
    email: row.email,
  };
}

export function loadUserRow(db: Db, id: UserId): UserRow | undefined {
  return db.prepare("SELECT * FROM users WHERE id = ?").get(id) as UserRow | undefined;
}

export function requireUserRow(db: Db, id: UserId): UserRow {
  const row = loadUserRow(db, id);
  if (!row) throw new FleetError("not_found", `no user ${id}`);
  return row;
}

export function createUser(
  db: Db,
  options: { name: string; level: UserLevel; anonymous: boolean; email?: string | null; isOwner?: boolean; now: number },
): UserRow {
  const id = newId("user") as UserId;
  db.prepare(
    `INSERT INTO users (id, name, email, level, is_owner, is_anonymous, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(id, options.name, options.email ?? null, options.level, options.isOwner ? 1 : 0, options.anonymous ? 1 : 0, options.now, options.now);
  return requireUserRow(db, id);
}

/**
 * Resolves what an admin typed for `<user>`: an id, an exact name or an exact email (any case).
 * Refuses an ambiguous name with the candidates' ids, so the admin can repeat it unambiguously.
 */
export function resolveUserRef(db: Db, ref: string): UserRow {
  const wanted = ref.trim();
  if (looksLikeId("user", wanted)) {
    const row = loadUserRow(db, wanted as UserId);
    if (row) return row;
    throw new FleetError("not_found", `no user ${wanted}; list users with: ocfleet admin users`);
  }
  const matches = db
    .prepare(
      `SELECT * FROM users WHERE name = @ref COLLATE NOCASE OR email = @ref COLLATE NOCASE
       UNION SELECT u.* FROM users u JOIN identities i ON i.user_id = u.id WHERE i.email = @ref COLLATE NOCASE`,
    )
    .all({ ref: wanted }) as UserRow[];
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new FleetError("not_found", `no user named '${wanted}'; find one with: ocfleet admin desk find ${wanted}`);
  throw new FleetError("failed_precondition", `'${wanted}' matches ${matches.length} users (${matches.map((m) => m.id).join(", ")}); use an id`, {
    candidates: matches.map((m) => m.id),
  });
}

/** Users whose id is `query`, or whose name or email (or a linked identity's email) contains it. */
export function searchUsers(db: Db, query: string, limit = 20): UserRow[] {
  const needle = `%${query.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return db
    .prepare(
      `SELECT DISTINCT u.* FROM users u LEFT JOIN identities i ON i.user_id = u.id
       WHERE u.id = @exact OR u.name LIKE @needle ESCAPE '\\' OR u.email LIKE @needle ESCAPE '\\' OR i.email LIKE @needle ESCAPE '\\'
       ORDER BY u.name COLLATE NOCASE LIMIT @limit`,
    )
    .all({ exact: query.trim(), needle, limit }) as UserRow[];
}

export function toAdminUserView(db: Db, row: UserRow, now: number): AdminUserView {
  const identities = db.prepare("SELECT provider, email FROM identities WHERE user_id = ? ORDER BY created_at").all(row.id) as Array<{
    provider: "google";
    email: string | null;
  }>;
  const sessions = db
    .prepare(
      `SELECT COUNT(*) FILTER (WHERE expires_at > @now AND revoked_at IS NULL) AS active, MAX(last_used_at) AS last_seen
       FROM sessions WHERE user_id = @userId`,
    )
    .get({ userId: row.id, now }) as { active: number; last_seen: number | null };
  return {
    ...toUserSummary(row),
    createdAt: row.created_at,
    identities,
    activeSessions: sessions.active,
    lastSeenAt: sessions.last_seen,
    disabled: row.disabled_at === null ? null : { at: row.disabled_at, by: row.disabled_by, reason: row.disabled_reason },
  };
}

/** The first account on a hub administers it (normally the owner, created by the first local command). */
export function levelForNewUser(db: Db): UserLevel {
  return db.prepare("SELECT 1 FROM users LIMIT 1").get() === undefined ? "system_admin" : "user";
}

export function countAdmins(db: Db): number {
  return (db.prepare("SELECT COUNT(*) AS n FROM users WHERE level = 'system_admin' AND disabled_at IS NULL").get() as { n: number }).n;
}
