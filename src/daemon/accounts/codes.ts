// Login codes (short, single use, seconds to minutes) and recovery codes (long, one per user,
// replaced on demand). Both come from crypto.randomBytes and are stored only as keyed digests.
import type { UserId } from "../../protocol/ids.js";
import { randomString, type SecretKeeper } from "../crypto.js";
import type { Db } from "../db/open.js";

/** Uppercase without 0/O, 1/I/L and U: nothing a person could misread or mistype. */
const CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789";
const LOGIN_CODE_LENGTH = 8;
/** 5 groups of 5: about 122 bits, enough to stand alone for as long as the account lives. */
const RECOVERY_GROUPS = 5;
const RECOVERY_GROUP_LENGTH = 5;

/** What a person may have typed, reduced to the characters that were generated. */
export function normalizeCode(typed: string): string {
  return typed.toUpperCase().replace(/[\s-]/g, "");
}

function groups(raw: string, size: number): string {
  return raw.match(new RegExp(`.{1,${size}}`, "g"))!.join("-");
}

export type LoginCodeKind = "login" | "desk";

export function issueLoginCode(
  db: Db,
  secrets: SecretKeeper,
  options: { userId: UserId; kind: LoginCodeKind; issuedBy: UserId; ttlMs: number; now: number },
): { code: string; expiresAt: number } {
  const raw = randomString(LOGIN_CODE_LENGTH, CODE_ALPHABET);
  const expiresAt = options.now + options.ttlMs;
  db.prepare("INSERT INTO login_codes (code_digest, user_id, kind, issued_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)").run(
    secrets.digest(raw),
    options.userId,
    options.kind,
    options.issuedBy,
    options.now,
    expiresAt,
  );
  return { code: groups(raw, 4), expiresAt };
}

/**
 * Uses up a login code. Returns its user and kind, or null when the code is wrong, used or
 * expired; the three are not told apart, so a guesser learns nothing.
 */
export function redeemLoginCode(db: Db, secrets: SecretKeeper, typed: string, now: number): { userId: UserId; kind: LoginCodeKind } | null {
  const code = normalizeCode(typed);
  const row = db.prepare("SELECT code_digest, user_id, kind, expires_at, used_at FROM login_codes WHERE code_digest = ?").get(secrets.digest(code)) as
    | { code_digest: string; user_id: UserId; kind: LoginCodeKind; expires_at: number; used_at: number | null }
    | undefined;
  if (!row || !secrets.matches(code, row.code_digest) || row.used_at !== null || row.expires_at <= now) return null;
  db.prepare("UPDATE login_codes SET used_at = ? WHERE code_digest = ? AND used_at IS NULL").run(now, row.code_digest);
  return { userId: row.user_id, kind: row.kind };
}

/** Issues a user's recovery code, replacing (and so invalidating) any earlier one. */
export function replaceRecoveryCode(db: Db, secrets: SecretKeeper, userId: UserId, now: number): { recoveryCode: string; createdAt: number } {
  const raw = randomString(RECOVERY_GROUPS * RECOVERY_GROUP_LENGTH, CODE_ALPHABET);
  db.prepare(
    `INSERT INTO recovery_codes (user_id, code_digest, created_at) VALUES (?, ?, ?)
     ON CONFLICT (user_id) DO UPDATE SET code_digest = excluded.code_digest, created_at = excluded.created_at`,
  ).run(userId, secrets.digest(raw), now);
  return { recoveryCode: groups(raw, RECOVERY_GROUP_LENGTH), createdAt: now };
}

/** The user whose recovery code this is, or null. Recovery codes stay valid until replaced. */
export function findUserByRecoveryCode(db: Db, secrets: SecretKeeper, typed: string): UserId | null {
  const code = normalizeCode(typed);
  const row = db.prepare("SELECT user_id, code_digest FROM recovery_codes WHERE code_digest = ?").get(secrets.digest(code)) as
    | { user_id: UserId; code_digest: string }
    | undefined;
  return row && secrets.matches(code, row.code_digest) ? row.user_id : null;
}

export function hasRecoveryCode(db: Db, userId: UserId): boolean {
  return db.prepare("SELECT 1 FROM recovery_codes WHERE user_id = ?").get(userId) !== undefined;
}
