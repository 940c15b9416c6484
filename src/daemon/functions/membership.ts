// membership: this machine joining a hub, its state there, and leaving it. Admins of this daemon
// only: joining hands control of this machine's workers to the hub's admins.
import { z } from "zod";
import { api } from "../../protocol/api/index.js";
import { readMembership, toMembershipView } from "../model/membership.js";
import { defineAction, defineQuery } from "./define.js";

export const join = defineAction(api.membership.join, {
  access: "admin",
  args: z.strictObject({
    token: z.string().trim().min(1, "must be the ocf1.… line printed by `ocfleet machine invite`").max(4000),
    name: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be 1-64 letters, digits, '.', '_' or '-'")
      .optional(),
  }),
  handler: (ctx, { token, name }) => ctx.services.membership.join(token, name),
});

export const leave = defineAction(api.membership.leave, {
  access: "admin",
  args: z.strictObject({}),
  handler: (ctx) => ctx.services.membership.leave(),
});

export const status = defineQuery(api.membership.status, {
  access: "user",
  args: z.strictObject({}),
  handler: (ctx) => {
    const row = readMembership.handler(ctx, {});
    return row ? toMembershipView(row) : null;
  },
});
