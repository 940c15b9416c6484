// admin: users and their access levels, Google sign-in configuration, and the audit log.
import type { UserId } from "../ids.js";
import type { UserLevel, UserSummary } from "./auth.js";
import { action, defineModule, mutation, query, type NoArgs } from "./define.js";

export interface AdminUserView extends UserSummary {
  createdAt: number;
  identities: Array<{ provider: "google"; email: string | null }>;
  activeSessions: number;
  /** The latest use of any of the user's sessions. */
  lastSeenAt: number | null;
  /** Set while an admin has disabled the user. */
  disabled: { at: number; by: string | null; reason: string | null } | null;
}

export interface GoogleConfigView {
  configured: boolean;
  enabled: boolean;
  clientId: string | null;
  /** Whether a client secret is stored. The secret itself is never returned. */
  clientSecretSet: boolean;
  issuer: string;
  endpoints: { authorization: string; token: string; deviceAuthorization: string | null; jwks: string };
  updatedAt: number | null;
  updatedBy: string | null;
}

export interface AuditEntry {
  id: number;
  at: number;
  actorId: UserId | null;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
}

/** A cleanup job of the daemon and what its last run did. */
export interface JobStatusView {
  job: string;
  description: string;
  /** How often it runs. */
  everyMs: number;
  lastRun: JobRunView | null;
  /** Rows removed over the runs still on record (the last 50 per job). */
  removedRecently: number;
}

export interface JobRunView {
  startedAt: number;
  finishedAt: number;
  /** Rows deleted. */
  removed: number;
  /** Why the run failed, or null. */
  error: string | null;
}

/** `user` arguments accept an id (usr_…), a name or an email. */
type UserRef = { user: string };

export const admin = defineModule("admin", {
  users: query<NoArgs, AdminUserView[]>(),
  setUserLevel: mutation<UserRef & { level: UserLevel }, AdminUserView>(),
  /** Disabling revokes every session, refuses every way of signing in, and skips the user's schedules. */
  disableUser: mutation<UserRef & { reason?: string }, AdminUserView>(),
  enableUser: mutation<UserRef, AdminUserView>(),
  googleShow: query<NoArgs, GoogleConfigView>(),
  /** With `issuer`, the endpoints come from its /.well-known/openid-configuration. */
  googleSet: action<{ clientId: string; clientSecret?: string; issuer?: string }, GoogleConfigView>(),
  googleEnable: mutation<NoArgs, GoogleConfigView>(),
  googleDisable: mutation<NoArgs, GoogleConfigView>(),
  /** Newest first. */
  audit: query<{ limit?: number }, AuditEntry[]>(),
  /** The daemon's cleanup jobs, each with its last run. */
  jobs: query<NoArgs, JobStatusView[]>(),
});
