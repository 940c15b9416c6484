// Signing connections in and out: a new session bound to the connection that asked (replacing
// the one it had), and revocations that reach every open connection of the revoked sessions.
import type { SessionKind, SignInResult } from "../../protocol/api/auth.js";
import type { SessionId, UserId } from "../../protocol/ids.js";
import type { MutationCtx } from "../functions/define.js";
import { createSession, revokeAllSessionsOf, revokeSessions, userSessionsKey } from "./sessions.js";
import { assertNotDisabled, toUserSummary, type UserRow } from "./users.js";
import { TABLES } from "../model/tables.js";

export function signInConnection(
  ctx: MutationCtx,
  user: UserRow,
  options: { kind: SessionKind; outcome: SignInResult["outcome"]; recoveryCode?: string },
): SignInResult {
  const { db, services } = ctx;
  assertNotDisabled(user);
  const previous = ctx.caller.session;
  if (previous) {
    revokeSessions(db, [previous.id], ctx.now, "replaced by a new sign-in");
    ctx.writes(TABLES.sessions, previous.id);
    if (ctx.caller.user) ctx.writes(TABLES.sessions, userSessionsKey(ctx.caller.user.id));
  }
  const session = createSession(db, services.secrets, services.authPolicy, {
    userId: user.id,
    kind: options.kind,
    clientName: ctx.connection.clientName,
    now: ctx.now,
  });
  ctx.writes(TABLES.sessions, userSessionsKey(user.id));
  ctx.connection.bindSession(session.id);
  services.log.info("signed in", { user: user.id, session: session.id, kind: options.kind, outcome: options.outcome });
  const result: SignInResult = { user: toUserSummary(user), session, outcome: options.outcome };
  if (options.recoveryCode !== undefined) result.recoveryCode = options.recoveryCode;
  return result;
}

/**
 * Revokes sessions of one user and tells live queries, so subscriptions on those sessions get
 * `unauthenticated` at once. The calling connection is signed out if its own session is among them.
 */
export function revokeAndAnnounce(ctx: MutationCtx, userId: UserId, ids: readonly SessionId[] | "all", reason: string): number {
  const revoked = ids === "all" ? revokeAllSessionsOf(ctx.db, userId, ctx.now, reason) : revokeSessions(ctx.db, ids, ctx.now, reason);
  for (const id of revoked) ctx.writes(TABLES.sessions, id);
  if (revoked.length > 0) ctx.writes(TABLES.sessions, userSessionsKey(userId));
  if (ctx.caller.session && revoked.includes(ctx.caller.session.id)) ctx.connection.bindSession(null);
  return revoked.length;
}
