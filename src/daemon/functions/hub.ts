// hub: this daemon's network listener (enable, disable, status) and the machines that join it
// (invite, approve, revoke, rename, remove with its workers). Admins only: these open the fleet to other computers.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { api } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import { formatInviteToken } from "../../protocol/link.js";
import { createInvite, deleteMachine, findRemoteMachine, refuseMachineSchedules, renameMachine, schedulesOfMachine, setApproval } from "../model/hub.js";
import { TABLES } from "../model/tables.js";
import { defineAction, defineMutation, defineQuery } from "./define.js";

const machineRef = { machine: z.string().trim().min(1, "must name a machine (id or name)") };
const machineName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be 1-64 letters, digits, '.', '_' or '-'");

/** Invites live at most this long. */
const MAX_INVITE_TTL_MS = 7 * 24 * 3600_000;
const DEFAULT_INVITE_TTL_MS = 3600_000;

export const enable = defineAction(api.hub.enable, {
  access: "admin",
  args: z.strictObject({
    listen: z.string().trim().min(1).optional(),
    publicUrl: z.string().trim().min(1).optional(),
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
  }),
  handler: (ctx, args) => ctx.services.hub.enable(args),
});

export const disable = defineAction(api.hub.disable, {
  access: "admin",
  args: z.strictObject({}),
  handler: (ctx) => ctx.services.hub.disable(),
});

export const status = defineQuery(api.hub.status, {
  access: "admin",
  args: z.strictObject({}),
  handler: (ctx) => {
    ctx.reads(TABLES.hubSettings);
    return ctx.services.hub.status();
  },
});

export const invite = defineMutation(api.hub.invite, {
  access: "admin",
  args: z.strictObject({
    name: machineName.optional(),
    ttlMs: z.number().int().min(1000).max(MAX_INVITE_TTL_MS, "an invite may live at most 7 days").optional(),
    approve: z.boolean().optional(),
  }),
  handler: (ctx, args) => {
    const { url, fingerprint } = ctx.services.hub.address();
    const secret = randomBytes(32).toString("base64url");
    const expiresAt = ctx.now + (args.ttlMs ?? DEFAULT_INVITE_TTL_MS);
    const id = createInvite.handler(ctx, {
      secretDigest: ctx.services.secrets.digest(secret),
      name: args.name ?? null,
      preApproved: args.approve === true,
      createdBy: ctx.user.id,
      expiresAt,
    });
    return { id, token: formatInviteToken({ url, fingerprint, secret }), expiresAt, preApproved: args.approve === true };
  },
});

export const approve = defineMutation(api.hub.approve, {
  access: "admin",
  args: z.strictObject(machineRef),
  handler: (ctx, { machine }) => {
    const row = findRemoteMachine.handler(ctx, { machine });
    if (row.approval === "revoked") throw new FleetError("failed_precondition", `'${row.name}' was revoked; it must join again with a new invite`);
    setApproval.handler(ctx, { machineId: row.id, approval: "approved", reason: null });
    // After the commit: the live link (if any) joins the fleet and its workers are resumed.
    setImmediate(() => ctx.services.hub.approved(row.id));
    return { id: row.id, name: row.name };
  },
});

export const revoke = defineMutation(api.hub.revoke, {
  access: "admin",
  args: z.strictObject({ ...machineRef, reason: z.string().trim().min(1).max(200).optional() }),
  handler: (ctx, { machine, reason }) => {
    const row = findRemoteMachine.handler(ctx, { machine });
    const why = reason ?? `revoked by ${ctx.user.name}`;
    setApproval.handler(ctx, { machineId: row.id, approval: "revoked", reason: why });
    // After the commit: the link is cut, and the machine goes offline through the fleet, the way the liveness
    // timeout takes it, so the chat runtime ends the turns running there as interrupted now.
    setImmediate(() => ctx.services.hub.revoked(row.id, why));
    return { id: row.id, name: row.name };
  },
});

export const rename = defineMutation(api.hub.rename, {
  access: "admin",
  args: z.strictObject({ ...machineRef, name: machineName }),
  handler: (ctx, { machine, name }) => {
    const row = findRemoteMachine.handler(ctx, { machine });
    renameMachine.handler(ctx, { machineId: row.id, name });
    return { id: row.id, name };
  },
});

export const remove = defineAction(api.hub.remove, {
  access: "admin",
  args: z.strictObject({ ...machineRef, force: z.boolean().optional() }),
  handler: async (ctx, { machine, force }) => {
    const row = ctx.runQuery(findRemoteMachine, { machine });
    // A machine still online would go on running what its workers do: revoke first (or --force, which does it here).
    const online = row.online === 1 || ctx.services.hub.isLinked(row.id);
    if (online && !force) {
      throw new FleetError(
        "failed_precondition",
        `machine '${row.name}' is online; revoke it first (ocfleet machine revoke ${row.name}), or run: ocfleet machine remove ${row.name} --force`,
      );
    }
    const schedules = ctx.runQuery(schedulesOfMachine, { machineId: row.id });
    if (schedules.length > 0 && !force) throw refuseMachineSchedules(row.name, schedules);
    // Cut and offline first, through the fleet, so the chat runtime ends the turns running there as interrupted.
    ctx.services.hub.removed(row.id, "the machine was removed from the hub");
    const outcome = ctx.runMutation(deleteMachine, { machineId: row.id, name: row.name, force: force === true });
    ctx.services.log.info("machine removed", { machine: row.id, name: row.name, workers: outcome.workersRemoved.length, by: ctx.user.id });
    return { id: row.id, name: row.name, ...outcome };
  },
});
