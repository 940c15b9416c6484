// admin: users and their access levels, Google sign-in configuration, the audit log, and how the
// cleanup jobs went. Every function here is for system_admins (enforced in dispatch), and every
// change is audited.
import { z } from "zod";
import { api } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import { readAudit, writeAudit } from "../accounts/audit.js";
import {
  checkEndpointUrl,
  discoverEndpoints,
  GOOGLE_ENDPOINTS,
  googleConfigView,
  PROVIDER,
  saveGoogleConfig,
  setGoogleEnabled,
  type OidcEndpoints,
} from "../accounts/google/config.js";
import { revokeAndAnnounce } from "../accounts/signIn.js";
import { countAdmins, requireUserRow, resolveUserRef, toAdminUserView } from "../accounts/users.js";
import { jobStatuses } from "../jobs/index.js";
import { userRefArg } from "./args.js";
import { defineAction, defineInternalMutation, defineMutation, defineQuery, type MutationCtx } from "./define.js";
import { TABLES } from "../model/tables.js";

export const users = defineQuery(api.admin.users, {
  access: "admin",
  args: z.strictObject({}),
  handler: (ctx) => {
    ctx.reads(TABLES.users);
    ctx.reads(TABLES.sessions);
    const rows = ctx.db.prepare("SELECT * FROM users ORDER BY created_at").all() as Parameters<typeof toAdminUserView>[1][];
    return rows.map((row) => toAdminUserView(ctx.db, row, ctx.now));
  },
});

export const setUserLevel = defineMutation(api.admin.setUserLevel, {
  access: "admin",
  args: z.strictObject({ user: userRefArg, level: z.enum(["user", "system_admin"]) }),
  handler: (ctx, { user, level }) => {
    const target = resolveUserRef(ctx.db, user);
    if (target.level === "system_admin" && level === "user" && countAdmins(ctx.db) <= 1) {
      throw new FleetError(
        "failed_precondition",
        `${target.name} is the last admin; make someone else an admin first (ocfleet admin users set-level <user> system_admin)`,
      );
    }
    if (target.level !== level) {
      ctx.db.prepare("UPDATE users SET level = ?, updated_at = ? WHERE id = ?").run(level, ctx.now, target.id);
      ctx.writes(TABLES.users, target.id);
    }
    writeAudit(ctx.db, ctx.user, ctx.now, { action: "admin.setUserLevel", target: target.id, details: { name: target.name, from: target.level, to: level } });
    ctx.writes(TABLES.audit);
    return toAdminUserView(ctx.db, requireUserRow(ctx.db, target.id), ctx.now);
  },
});

/**
 * Disabling a user (audited): their sessions are revoked at once, every way of signing in refuses
 * them (accounts/signIn.ts), and their schedules record skipped runs instead of sending. The owner
 * (the OS user who runs the daemon), yourself and the last enabled admin cannot be disabled.
 */
export const disableUser = defineMutation(api.admin.disableUser, {
  access: "admin",
  args: z.strictObject({ user: userRefArg, reason: z.string().trim().min(1).max(500).optional() }),
  handler: (ctx, { user, reason }) => {
    const target = resolveUserRef(ctx.db, user);
    if (target.is_owner === 1) throw new FleetError("failed_precondition", `${target.name} owns this daemon (the OS user it runs as) and cannot be disabled`);
    if (target.id === ctx.user.id) throw new FleetError("failed_precondition", "you cannot disable yourself; ask another admin");
    if (target.level === "system_admin" && countAdmins(ctx.db) <= 1) {
      throw new FleetError("failed_precondition", `${target.name} is the last admin; make someone else an admin first`);
    }
    if (target.disabled_at === null) {
      ctx.db
        .prepare("UPDATE users SET disabled_at = ?, disabled_by = ?, disabled_reason = ?, updated_at = ? WHERE id = ?")
        .run(ctx.now, ctx.user.name, reason ?? null, ctx.now, target.id);
      ctx.writes(TABLES.users, target.id);
      ctx.writes(TABLES.users);
      const revoked = revokeAndAnnounce(ctx, target.id, "all", `account disabled by ${ctx.user.name}`);
      writeAudit(ctx.db, ctx.user, ctx.now, {
        action: "admin.disableUser",
        target: target.id,
        details: { name: target.name, reason: reason ?? null, revoked },
      });
      ctx.writes(TABLES.audit);
    }
    return toAdminUserView(ctx.db, requireUserRow(ctx.db, target.id), ctx.now);
  },
});

export const enableUser = defineMutation(api.admin.enableUser, {
  access: "admin",
  args: z.strictObject({ user: userRefArg }),
  handler: (ctx, { user }) => {
    const target = resolveUserRef(ctx.db, user);
    if (target.disabled_at !== null) {
      ctx.db.prepare("UPDATE users SET disabled_at = NULL, disabled_by = NULL, disabled_reason = NULL, updated_at = ? WHERE id = ?").run(ctx.now, target.id);
      ctx.writes(TABLES.users, target.id);
      ctx.writes(TABLES.users);
      writeAudit(ctx.db, ctx.user, ctx.now, { action: "admin.enableUser", target: target.id, details: { name: target.name } });
      ctx.writes(TABLES.audit);
    }
    return toAdminUserView(ctx.db, requireUserRow(ctx.db, target.id), ctx.now);
  },
});

export const googleShow = defineQuery(api.admin.googleShow, {
  access: "admin",
  args: z.strictObject({}),
  handler: (ctx) => {
    ctx.reads(TABLES.providers, PROVIDER);
    return googleConfigView(ctx.db);
  },
});

const saveGoogle = defineInternalMutation(
  (ctx, args: { clientId: string; clientSecret: string | undefined; endpoints: OidcEndpoints; discoveredFrom: string | null }) => {
    saveGoogleConfig(ctx.db, ctx.services.secrets, { ...args, updatedBy: ctx.user!.id, now: ctx.now });
    ctx.writes(TABLES.providers, PROVIDER);
    // Facts only: whether a secret was given, never the secret.
    writeAudit(ctx.db, ctx.user!, ctx.now, {
      action: "admin.googleSet",
      target: PROVIDER,
      details: {
        clientId: args.clientId,
        clientSecretChanged: args.clientSecret !== undefined,
        issuer: args.endpoints.issuer,
        discoveredFrom: args.discoveredFrom,
      },
    });
    ctx.writes(TABLES.audit);
    return googleConfigView(ctx.db);
  },
);

export const googleSet = defineAction(api.admin.googleSet, {
  access: "admin",
  args: z.strictObject({
    clientId: z.string().trim().min(1, "must not be empty").max(300),
    clientSecret: z.string().min(1, "must not be empty").max(500).optional(),
    issuer: z.string().trim().max(500).optional(),
  }),
  handler: async (ctx, { clientId, clientSecret, issuer }) => {
    const endpoints = issuer === undefined ? GOOGLE_ENDPOINTS : await discoverEndpoints(checkEndpointUrl("issuer", issuer));
    return ctx.runMutation(saveGoogle, { clientId, clientSecret, endpoints, discoveredFrom: issuer ?? null });
  },
});

/** Turns Google sign-in on or off, with an audit row. */
function setGoogle(ctx: MutationCtx<"admin">, enabled: boolean) {
  setGoogleEnabled(ctx.db, enabled, ctx.user.id, ctx.now);
  ctx.writes(TABLES.providers, PROVIDER);
  writeAudit(ctx.db, ctx.user, ctx.now, { action: enabled ? "admin.googleEnable" : "admin.googleDisable", target: PROVIDER });
  ctx.writes(TABLES.audit);
  return googleConfigView(ctx.db);
}

export const googleEnable = defineMutation(api.admin.googleEnable, {
  access: "admin",
  args: z.strictObject({}),
  handler: (ctx) => setGoogle(ctx, true),
});

export const googleDisable = defineMutation(api.admin.googleDisable, {
  access: "admin",
  args: z.strictObject({}),
  handler: (ctx) => setGoogle(ctx, false),
});

export const audit = defineQuery(api.admin.audit, {
  access: "admin",
  args: z.strictObject({ limit: z.number().int().min(1).max(1000).optional() }),
  handler: (ctx, { limit }) => {
    ctx.reads(TABLES.audit);
    return readAudit(ctx.db, limit ?? 50);
  },
});

export const jobs = defineQuery(api.admin.jobs, {
  access: "admin",
  args: z.strictObject({}),
  handler: (ctx) => {
    ctx.reads(TABLES.jobRuns);
    return jobStatuses(ctx.db, ctx.services.jobs.cleanup);
  },
});
