// auth: signing in (as the machine's owner, anonymously, with a login or recovery code, or with
// Google), the caller's own sessions, and signing out. Each function's access level is declared
// here and enforced in dispatch; handlers only check ownership of the rows they touch.
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { api, type SessionView, type SignInResult } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import type { LoginRequestId, SessionId, UserId } from "../../protocol/ids.js";
import { findUserByRecoveryCode, hasRecoveryCode, issueLoginCode, redeemLoginCode, replaceRecoveryCode } from "../accounts/codes.js";
import { requireGoogleClient } from "../accounts/google/config.js";
import { signInWithGoogleProfile } from "../accounts/google/link.js";
import { exchangeCode, pollDeviceToken, startDeviceAuthorization, verifyIdToken, type VerifiedProfile } from "../accounts/google/oidc.js";
import {
  checkLoopbackRedirect,
  consumeLoopbackRequest,
  createDeviceRequest,
  createLoopbackRequest,
  loadDeviceRequest,
  markConsumed,
  recordDevicePoll,
} from "../accounts/google/requests.js";
import type { AttemptKey } from "../accounts/limiter.js";
import { generateFriendlyName } from "../accounts/names.js";
import { activeSessions, loadSession, userSessionsKey, type SessionRow } from "../accounts/sessions.js";
import { revokeAndAnnounce, signInConnection } from "../accounts/signIn.js";
import { createUser, levelForNewUser, requireUserRow, toUserSummary, type UserRow } from "../accounts/users.js";
import { ensureOwnerUser } from "../identity.js";
import { idArg } from "./args.js";
import { defineAction, defineMutation, defineQuery, defineInternalMutation, defineInternalQuery, type ActionCtx, type Caller } from "./define.js";
import { TABLES } from "../model/tables.js";

const codeArg = z.string().trim().min(1, "must not be empty").max(64, "must be at most 64 characters");

function toSessionView(row: SessionRow, caller: Caller): SessionView {
  return {
    id: row.id,
    kind: row.kind,
    clientName: row.client_name,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    current: row.id === caller.session?.id,
  };
}

export const signInAsOwner = defineMutation(api.auth.signInAsOwner, {
  access: "local",
  args: z.strictObject({}),
  handler: (ctx) => {
    const { owner, created } = ensureOwnerUser(ctx.db, ctx.now);
    if (created) ctx.writes(TABLES.users, owner.id);
    return signInConnection(ctx, owner, { kind: "owner", outcome: created ? "created" : "signed_in" });
  },
});

export const loginAnonymous = defineMutation(api.auth.loginAnonymous, {
  access: "public",
  args: z.strictObject({}),
  handler: (ctx) => {
    const user = createUser(ctx.db, { name: generateFriendlyName(ctx.db), level: levelForNewUser(ctx.db), anonymous: true, now: ctx.now });
    ctx.writes(TABLES.users, user.id);
    const { recoveryCode } = replaceRecoveryCode(ctx.db, ctx.services.secrets, user.id, ctx.now);
    return signInConnection(ctx, user, { kind: "anonymous", outcome: "created", recoveryCode });
  },
});

/** Wrong codes are counted per connection (one at a time) and, more leniently, per source address. */
function attemptKeys(ctx: ActionCtx): AttemptKey[] {
  return [
    { key: `connection:${ctx.caller.connectionId}`, factor: 1, serial: true },
    { key: `source:${ctx.caller.source}`, factor: ctx.services.authPolicy.sourceFactor },
  ];
}

/** Runs one code check under the rate limit: slowed after a few wrong codes, then refused. */
async function checkCodeLimited(ctx: ActionCtx, check: () => SignInResult | null, wrong: string): Promise<SignInResult> {
  const ticket = ctx.services.codeAttempts.admit(attemptKeys(ctx));
  let result: SignInResult | null = null;
  try {
    if (ticket.delayMs > 0) await sleep(ticket.delayMs);
    result = check();
  } finally {
    ticket.settle(result !== null);
  }
  if (!result) throw new FleetError("not_found", wrong);
  return result;
}

const signInWithLoginCode = defineInternalMutation((ctx, code: string): SignInResult | null => {
  const redeemed = redeemLoginCode(ctx.db, ctx.services.secrets, code, ctx.now);
  if (!redeemed) return null;
  return signInConnection(ctx, requireUserRow(ctx.db, redeemed.userId), { kind: redeemed.kind === "desk" ? "desk" : "code", outcome: "signed_in" });
});

export const loginWithCode = defineAction(api.auth.loginWithCode, {
  access: "public",
  args: z.strictObject({ code: codeArg }),
  handler: (ctx, { code }) =>
    checkCodeLimited(ctx, () => ctx.runMutation(signInWithLoginCode, code), "that login code is wrong, used or expired; get a new one with: ocfleet auth code"),
});

const signInWithRecoveryCode = defineInternalMutation((ctx, code: string): SignInResult | null => {
  const userId = findUserByRecoveryCode(ctx.db, ctx.services.secrets, code);
  return userId ? signInConnection(ctx, requireUserRow(ctx.db, userId), { kind: "recovery", outcome: "signed_in" }) : null;
});

export const loginWithRecoveryCode = defineAction(api.auth.loginWithRecoveryCode, {
  access: "public",
  args: z.strictObject({ code: codeArg }),
  handler: (ctx, { code }) =>
    checkCodeLimited(ctx, () => ctx.runMutation(signInWithRecoveryCode, code), "that recovery code is wrong or was replaced by a newer one"),
});

export const createLoginCode = defineMutation(api.auth.createLoginCode, {
  access: "user",
  args: z.strictObject({}),
  handler: (ctx) =>
    issueLoginCode(ctx.db, ctx.services.secrets, {
      userId: ctx.user.id,
      kind: "login",
      issuedBy: ctx.user.id,
      ttlMs: ctx.services.authPolicy.loginCodeTtlMs,
      now: ctx.now,
    }),
});

export const regenerateRecoveryCode = defineMutation(api.auth.regenerateRecoveryCode, {
  access: "user",
  args: z.strictObject({}),
  handler: (ctx) => replaceRecoveryCode(ctx.db, ctx.services.secrets, ctx.user.id, ctx.now),
});

export const whoami = defineQuery(api.auth.whoami, {
  access: "user",
  args: z.strictObject({}),
  handler: (ctx) => {
    ctx.reads(TABLES.users, ctx.user.id);
    ctx.reads(TABLES.sessions, userSessionsKey(ctx.user.id));
    const user: UserRow = requireUserRow(ctx.db, ctx.user.id);
    const identities = ctx.db
      .prepare("SELECT provider, email, email_verified, display_name, created_at, last_login_at FROM identities WHERE user_id = ? ORDER BY created_at")
      .all(user.id) as Array<{
      provider: "google";
      email: string | null;
      email_verified: 0 | 1;
      display_name: string | null;
      created_at: number;
      last_login_at: number;
    }>;
    const session = loadSession(ctx.db, ctx.caller.session!.id)!;
    return {
      user: { ...toUserSummary(user), createdAt: user.created_at },
      identities: identities.map((i) => ({
        provider: i.provider,
        email: i.email,
        emailVerified: i.email_verified === 1,
        name: i.display_name,
        linkedAt: i.created_at,
        lastLoginAt: i.last_login_at,
      })),
      session: toSessionView(session, ctx.caller),
      hasRecoveryCode: hasRecoveryCode(ctx.db, user.id),
    };
  },
});

export const sessions = defineQuery(api.auth.sessions, {
  access: "user",
  args: z.strictObject({}),
  handler: (ctx) => {
    ctx.reads(TABLES.sessions, userSessionsKey(ctx.user.id));
    return activeSessions(ctx.db, ctx.user.id, ctx.now).map((row) => toSessionView(row, ctx.caller));
  },
});

export const revokeSession = defineMutation(api.auth.revokeSession, {
  access: "user",
  args: z.strictObject({ sessionId: idArg("session") }),
  handler: (ctx, { sessionId }) => {
    const row = loadSession(ctx.db, sessionId);
    // Someone else's session is reported exactly like one that does not exist.
    if (!row || row.user_id !== ctx.user.id || row.revoked_at !== null || row.expires_at <= ctx.now) {
      throw new FleetError("not_found", `you have no active session ${sessionId}; list them with: ocfleet auth sessions`);
    }
    revokeAndAnnounce(ctx, ctx.user.id, [sessionId], "revoked by its user");
    return { revoked: true as const, current: sessionId === ctx.caller.session!.id };
  },
});

export const logout = defineMutation(api.auth.logout, {
  access: "user",
  args: z.strictObject({ all: z.boolean().optional() }),
  handler: (ctx, { all }) => {
    const ids: SessionId[] = all ? activeSessions(ctx.db, ctx.user.id, ctx.now).map((s) => s.id) : [ctx.caller.session!.id];
    return { revoked: revokeAndAnnounce(ctx, ctx.user.id, ids, all ? "signed out everywhere" : "signed out") };
  },
});

export const googleStart = defineMutation(api.auth.googleStart, {
  access: "public",
  args: z.strictObject({ redirectUri: z.string().max(200) }),
  handler: (ctx, { redirectUri }) =>
    createLoopbackRequest(ctx.db, ctx.services.secrets, requireGoogleClient(ctx.db, ctx.services.secrets), {
      redirectUri: checkLoopbackRedirect(redirectUri),
      userId: ctx.user?.id ?? null,
      now: ctx.now,
      ttlMs: ctx.services.authPolicy.loginRequestTtlMs,
    }),
});

const startLoopbackExchange = defineInternalMutation((ctx, args: { requestId: LoginRequestId; state: string }) => ({
  client: requireGoogleClient(ctx.db, ctx.services.secrets),
  ...consumeLoopbackRequest(ctx.db, ctx.services.secrets, { ...args, callerUserId: ctx.user?.id ?? null, now: ctx.now }),
}));

const completeGoogleSignIn = defineInternalMutation((ctx, args: { profile: VerifiedProfile; linkTo: UserId | null }) =>
  signInWithGoogleProfile(ctx, args.profile, args.linkTo),
);

export const googleFinish = defineAction(api.auth.googleFinish, {
  access: "public",
  // Only what the redirect carried. Who the person is comes from the verified id_token, never from the client.
  args: z.strictObject({ requestId: idArg("loginRequest"), state: z.string().min(1).max(200), code: z.string().min(1).max(2000) }),
  handler: async (ctx, { requestId, state, code }) => {
    const exchange = ctx.runMutation(startLoopbackExchange, { requestId, state });
    const idToken = await exchangeCode(exchange.client, { code, redirectUri: exchange.redirectUri, verifier: exchange.verifier });
    const profile = await verifyIdToken(exchange.client, idToken, {
      nonceMatches: (nonce) => ctx.services.secrets.matches(nonce, exchange.nonceDigest),
    });
    return ctx.runMutation(completeGoogleSignIn, { profile, linkTo: exchange.linkTo });
  },
});

const googleClientForAction = defineInternalQuery((ctx) => requireGoogleClient(ctx.db, ctx.services.secrets));

const saveDeviceRequest = defineInternalMutation((ctx, device: Awaited<ReturnType<typeof startDeviceAuthorization>>) =>
  createDeviceRequest(ctx.db, ctx.services.secrets, device, { userId: ctx.user?.id ?? null, now: ctx.now }),
);

export const googleDeviceStart = defineAction(api.auth.googleDeviceStart, {
  access: "public",
  args: z.strictObject({}),
  handler: async (ctx) => ctx.runMutation(saveDeviceRequest, await startDeviceAuthorization(ctx.runQuery(googleClientForAction, {}))),
});

const deviceRequestState = defineInternalQuery((ctx, requestId: LoginRequestId) => ({
  client: requireGoogleClient(ctx.db, ctx.services.secrets),
  ...loadDeviceRequest(ctx.db, ctx.services.secrets, { requestId, callerUserId: ctx.user?.id ?? null, now: ctx.now }),
}));

const saveDevicePoll = defineInternalMutation((ctx, args: { requestId: LoginRequestId; intervalMs: number; nextPollAt: number }) =>
  recordDevicePoll(ctx.db, args.requestId, args),
);

const finishDeviceRequest = defineInternalMutation((ctx, args: { requestId: LoginRequestId; profile: VerifiedProfile | null; linkTo: UserId | null }) => {
  markConsumed(ctx.db, args.requestId, ctx.now);
  return args.profile ? signInWithGoogleProfile(ctx, args.profile, args.linkTo) : null;
});

export const googleDevicePoll = defineAction(api.auth.googleDevicePoll, {
  access: "public",
  args: z.strictObject({ requestId: idArg("loginRequest") }),
  handler: async (ctx, { requestId }) => {
    const state = ctx.runQuery(deviceRequestState, requestId);
    // The daemon keeps the pace the provider asked for, however often the client asks.
    const now = Date.now();
    if (now < state.nextPollAt) return { status: "pending" as const, retryInMs: state.nextPollAt - now, slowedDown: false };
    const outcome = await pollDeviceToken(state.client, state.deviceCode);
    const polledAt = Date.now();
    switch (outcome.kind) {
      case "pending":
      case "slow_down": {
        const slowedDown = outcome.kind === "slow_down";
        // RFC 8628 §3.5: slow_down adds 5 seconds to the interval, for this and every later poll.
        const intervalMs = slowedDown ? Math.max(outcome.intervalMs ?? 0, state.intervalMs + ctx.services.authPolicy.deviceSlowDownStepMs) : state.intervalMs;
        ctx.runMutation(saveDevicePoll, { requestId, intervalMs, nextPollAt: polledAt + intervalMs });
        return { status: "pending" as const, retryInMs: intervalMs, slowedDown };
      }
      case "expired":
        ctx.runMutation(finishDeviceRequest, { requestId, profile: null, linkTo: state.linkTo });
        throw new FleetError("failed_precondition", "the device code expired before it was approved; run ocfleet login --google --device again");
      case "denied":
        ctx.runMutation(finishDeviceRequest, { requestId, profile: null, linkTo: state.linkTo });
        throw new FleetError("permission_denied", "the sign-in was declined in the browser; nothing was signed in");
      case "approved": {
        // The device flow has no nonce: the id_token comes straight from the token endpoint over TLS.
        const profile = await verifyIdToken(state.client, outcome.idToken, {});
        const signIn = ctx.runMutation(finishDeviceRequest, { requestId, profile, linkTo: state.linkTo })!;
        return { status: "approved" as const, signIn };
      }
    }
  },
});
