// serviceDesk: admins helping a user: find them, issue a 10-minute login code for them, sign them
// out everywhere. For system_admins (enforced in dispatch); every action is audited.
import { z } from "zod";
import { api } from "../../protocol/api/index.js";
import { writeAudit } from "../accounts/audit.js";
import { issueLoginCode as issueCode } from "../accounts/codes.js";
import { revokeAndAnnounce } from "../accounts/signIn.js";
import { resolveUserRef, searchUsers, toAdminUserView, toUserSummary } from "../accounts/users.js";
import { userRefArg } from "./args.js";
import { defineMutation } from "./define.js";
import { TABLES } from "../model/tables.js";

export const findUser = defineMutation(api.serviceDesk.findUser, {
  access: "admin",
  args: z.strictObject({ query: z.string().trim().min(1, "must not be empty").max(320) }),
  handler: (ctx, { query }) => {
    const found = searchUsers(ctx.db, query);
    writeAudit(ctx.db, ctx.user, ctx.now, { action: "serviceDesk.findUser", details: { query, found: found.map((u) => u.id) } });
    ctx.writes(TABLES.audit);
    return found.map((row) => toAdminUserView(ctx.db, row, ctx.now));
  },
});

export const issueLoginCode = defineMutation(api.serviceDesk.issueLoginCode, {
  access: "admin",
  args: z.strictObject({ user: userRefArg }),
  handler: (ctx, { user }) => {
    const target = resolveUserRef(ctx.db, user);
    const grant = issueCode(ctx.db, ctx.services.secrets, {
      userId: target.id,
      kind: "desk",
      issuedBy: ctx.user.id,
      ttlMs: ctx.services.authPolicy.deskCodeTtlMs,
      now: ctx.now,
    });
    // The code goes to the admin once; the log records only that one was issued and until when.
    writeAudit(ctx.db, ctx.user, ctx.now, {
      action: "serviceDesk.issueLoginCode",
      target: target.id,
      details: { name: target.name, expiresAt: grant.expiresAt },
    });
    ctx.writes(TABLES.audit);
    return { ...grant, user: toUserSummary(target) };
  },
});

export const revokeSessions = defineMutation(api.serviceDesk.revokeSessions, {
  access: "admin",
  args: z.strictObject({ user: userRefArg }),
  handler: (ctx, { user }) => {
    const target = resolveUserRef(ctx.db, user);
    const revoked = revokeAndAnnounce(ctx, target.id, "all", `revoked by ${ctx.user.name} (service desk)`);
    writeAudit(ctx.db, ctx.user, ctx.now, { action: "serviceDesk.revokeSessions", target: target.id, details: { name: target.name, revoked } });
    ctx.writes(TABLES.audit);
    return { user: toUserSummary(target), revoked };
  },
});
