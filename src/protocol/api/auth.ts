// auth: signing in and out, sessions, login and recovery codes, and Google sign-in.
import type { LoginRequestId, SessionId, UserId } from "../ids.js";
import { action, defineModule, mutation, query, type NoArgs } from "./define.js";

export type UserLevel = "user" | "system_admin";

/** How a session came to be. */
export type SessionKind = "owner" | "anonymous" | "google" | "code" | "recovery" | "desk";

export interface UserSummary {
  id: UserId;
  name: string;
  level: UserLevel;
  /** No linked identity: the account is only as durable as its sessions and recovery code. */
  anonymous: boolean;
  /** The machine's owner: the OS user who runs this daemon. */
  isOwner: boolean;
  email: string | null;
}

/** A new session: the token is shown to its client once and stored only as a digest. */
export interface SessionGrant {
  id: SessionId;
  token: string;
  expiresAt: number;
}

export interface SignInResult {
  user: UserSummary;
  session: SessionGrant;
  /** What happened to the account: new, existing, or an anonymous one upgraded by linking Google. */
  outcome: "created" | "signed_in" | "linked" | "upgraded";
  /** Only when a new anonymous account was created: shown once, never again. */
  recoveryCode?: string;
}

export interface IdentityView {
  provider: "google";
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  linkedAt: number;
  lastLoginAt: number;
}

export interface SessionView {
  id: SessionId;
  kind: SessionKind;
  clientName: string;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
  /** The session this connection is signed in with. */
  current: boolean;
}

export interface WhoAmI {
  user: UserSummary & { createdAt: number };
  identities: IdentityView[];
  session: SessionView;
  hasRecoveryCode: boolean;
}

export interface LoginCodeGrant {
  /** Shown as XXXX-XXXX; the dash and case are ignored when it is typed. */
  code: string;
  expiresAt: number;
}

export interface RecoveryCodeGrant {
  recoveryCode: string;
  createdAt: number;
}

export interface GoogleLoopbackStart {
  requestId: LoginRequestId;
  authorizationUrl: string;
  /** The client checks that the browser comes back with exactly this. */
  state: string;
  expiresAt: number;
}

export interface GoogleDeviceStart {
  requestId: LoginRequestId;
  userCode: string;
  verificationUrl: string;
  verificationUrlComplete: string | null;
  expiresAt: number;
  /** Wait this long before the first poll. */
  retryInMs: number;
}

export type GoogleDevicePoll = { status: "pending"; retryInMs: number; slowedDown: boolean } | { status: "approved"; signIn: SignInResult };

type GoogleFinishArgs = { requestId: LoginRequestId; state: string; code: string };

export const auth = defineModule("auth", {
  /** Local connections only: signs in as the machine's owner, creating the owner on first use. */
  signInAsOwner: mutation<NoArgs, SignInResult>(),
  /** A new anonymous account with a generated name, and its recovery code (shown once). */
  loginAnonymous: mutation<NoArgs, SignInResult>(),
  /** Signs in with a code from `ocfleet auth code` or the service desk. Rate limited. */
  loginWithCode: action<{ code: string }, SignInResult>(),
  loginWithRecoveryCode: action<{ code: string }, SignInResult>(),
  createLoginCode: mutation<NoArgs, LoginCodeGrant>(),
  /** Issues a new recovery code; the old one stops working. */
  regenerateRecoveryCode: mutation<NoArgs, RecoveryCodeGrant>(),
  whoami: query<NoArgs, WhoAmI>(),
  /** The caller's sessions that are still valid. */
  sessions: query<NoArgs, SessionView[]>(),
  revokeSession: mutation<{ sessionId: SessionId }, { revoked: true; current: boolean }>(),
  /** Revokes this session, or all of the user's sessions. */
  logout: mutation<{ all?: boolean }, { revoked: number }>(),
  /** Starts a browser sign-in whose redirect goes to `redirectUri` (http://127.0.0.1:<port>/…). */
  googleStart: mutation<{ redirectUri: string }, GoogleLoopbackStart>(),
  /** Hands over the code from the redirect; the daemon exchanges and verifies it. */
  googleFinish: action<GoogleFinishArgs, SignInResult>(),
  googleDeviceStart: action<NoArgs, GoogleDeviceStart>(),
  googleDevicePoll: action<{ requestId: LoginRequestId }, GoogleDevicePoll>(),
});
