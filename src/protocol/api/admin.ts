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

/** `user` arguments accept an id (usr_…), a name or an email. */
type UserRef = { user: string };

export const admin = defineModule("admin", {
  users: query<NoArgs, AdminUserView[]>(),
  setUserLevel: mutation<UserRef & { level: UserLevel }, AdminUserView>(),
  googleShow: query<NoArgs, GoogleConfigView>(),
  /** With `issuer`, the endpoints come from its /.well-known/openid-configuration. */
  googleSet: action<{ clientId: string; clientSecret?: string; issuer?: string }, GoogleConfigView>(),
  googleEnable: mutation<NoArgs, GoogleConfigView>(),
  googleDisable: mutation<NoArgs, GoogleConfigView>(),
  /** Newest first. */
  audit: query<{ limit?: number }, AuditEntry[]>(),
});
