// Login sessions: random bearer tokens stored as keyed digests, with an expiry that slides with
// use. A connection names its session by id and keeps what it resolves to until a write to the
// session or its user, or until `recheckAt`, so revocation and expiry apply at once.
import type { SessionKind } from "../../protocol/api/auth.js";
import type { SessionProblem } from "../../protocol/frames.js";
import type { SessionId, UserId } from "../../protocol/ids.js";
import { newId, randomToken, type SecretKeeper } from "../crypto.js";
import type { Db } from "../db/open.js";
import type { CallerUser } from "../model/context.js";
import { TABLES } from "../model/tables.js";
import type { AuthPolicy } from "./policy.js";

/** Live-query table for sessions: key = session id (who a caller is) or `user:<id>` (a user's list). */
/** The sessions table's live-query name, for the connection and the daemon's start-up. */
export const SESSIONS_TABLE = TABLES.sessions;
export const userSessionsKey = (userId: string) => `user:${userId}`;

export interface SessionRow {
  id: SessionId;
  user_id: UserId;
  kind: SessionKind;
  client_name: string;
  created_at: number;
  last_used_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface NewSession {
  id: SessionId;
  token: string;
  expiresAt: number;
}

export function createSession(
  db: Db,
  secrets: SecretKeeper,
  policy: AuthPolicy,
  options: { userId: UserId; kind: SessionKind; clientName: string; now: number },
): NewSession {
  const id = newId("session");
  const token = randomToken(32);
  const expiresAt = options.now + policy.sessionTtlMs;
  db.prepare(
    `INSERT INTO sessions (id, user_id, token_digest, kind, client_name, created_at, last_used_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(id, options.userId, secrets.digest(token), options.kind, options.clientName.slice(0, 100), options.now, options.now, expiresAt);
  return { id, token, expiresAt };
}

function problemOf(row: Pick<SessionRow, "revoked_at" | "expires_at">, now: number): SessionProblem | null {
  if (row.revoked_at !== null) return "revoked";
  if (row.expires_at <= now) return "expired";
  return null;
}

/** Finds the session a bearer token belongs to. */
export function findSessionByToken(db: Db, secrets: SecretKeeper, token: string, now: number): { id: SessionId } | { problem: SessionProblem } {
  const digest = secrets.digest(token);
  const row = db.prepare("SELECT id, token_digest, revoked_at, expires_at FROM sessions WHERE token_digest = ?").get(digest) as
    | (Pick<SessionRow, "id" | "revoked_at" | "expires_at"> & { token_digest: string })
    | undefined;
  // The lookup is by a keyed digest, so its timing reveals nothing; the comparison is constant-time anyway.
  if (!row || !secrets.matches(token, row.token_digest)) return { problem: "unknown" };
  const problem = problemOf(row, now);
  return problem ? { problem } : { id: row.id };
}

export type ResolvedSession =
  | {
      user: CallerUser;
      session: { id: SessionId; expiresAt: number };
      touched: boolean;
      /** Until then, only a write to the session's or the user's row changes the outcome: then it expires or is due a slide. */
      recheckAt: number;
    }
  | { problem: SessionProblem };

/**
 * The user behind a session, if it is still valid. Slides the expiry when the last touch is
 * older than the policy's interval (the only write; `touched` says whether it happened).
 */
export function resolveSession(db: Db, policy: AuthPolicy, id: SessionId, now: number): ResolvedSession {
  const row = db
    .prepare(
      `SELECT s.user_id, s.last_used_at, s.expires_at, s.revoked_at, u.name, u.level, u.disabled_at
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`,
    )
    .get(id) as
    | (Pick<SessionRow, "user_id" | "last_used_at" | "expires_at" | "revoked_at"> & { name: string; level: CallerUser["level"]; disabled_at: number | null })
    | undefined;
  if (!row) return { problem: "unknown" };
  // Disabling revokes a user's sessions; this holds even for one a race let through.
  const problem = row.disabled_at !== null ? "revoked" : problemOf(row, now);
  if (problem) return { problem };
  let expiresAt = row.expires_at;
  let lastUsedAt = row.last_used_at;
  let touched = false;
  if (now - lastUsedAt >= policy.sessionTouchEveryMs) {
    expiresAt = now + policy.sessionTtlMs;
    lastUsedAt = now;
    db.prepare("UPDATE sessions SET last_used_at = ?, expires_at = ? WHERE id = ? AND revoked_at IS NULL").run(now, expiresAt, id);
    touched = true;
  }
  const recheckAt = Math.min(expiresAt, lastUsedAt + policy.sessionTouchEveryMs);
  return { user: { id: row.user_id, name: row.name, level: row.level }, session: { id, expiresAt }, touched, recheckAt };
}

export function loadSession(db: Db, id: SessionId): SessionRow | undefined {
  return db.prepare("SELECT * FROM sessions WHERE id = ?").get(id) as SessionRow | undefined;
}

/** Sessions of a user that still sign in, newest first. */
export function activeSessions(db: Db, userId: UserId, now: number): SessionRow[] {
  return db
    .prepare("SELECT * FROM sessions WHERE user_id = ? AND expires_at > ? AND revoked_at IS NULL ORDER BY created_at DESC")
    .all(userId, now) as SessionRow[];
}

/** Revokes sessions; returns the ids that were still active, so callers can report the change. */
export function revokeSessions(db: Db, ids: readonly SessionId[], now: number, reason: string): SessionId[] {
  const revoke = db.prepare("UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL");
  return ids.filter((id) => revoke.run(now, reason, id).changes > 0);
}

export function revokeAllSessionsOf(db: Db, userId: UserId, now: number, reason: string): SessionId[] {
  return revokeSessions(
    db,
    activeSessions(db, userId, now).map((s) => s.id),
    now,
    reason,
  );
}
