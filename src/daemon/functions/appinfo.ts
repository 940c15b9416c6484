// appinfo: what this daemon is. Public, so a client can learn how to sign in before it has.
import { z } from "zod";
import { api } from "../../protocol/api/index.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../../protocol/version.js";
import { defineQuery } from "./define.js";

export const get = defineQuery(api.appinfo.get, {
  access: "public",
  args: z.strictObject({}),
  handler: (ctx) => ({
    version: PACKAGE_VERSION,
    protocol: PROTOCOL_VERSION,
    stateDir: ctx.services.paths.home,
    pid: process.pid,
    startedAt: ctx.services.startedAt,
    signInMethods: ["local"],
  }),
});
