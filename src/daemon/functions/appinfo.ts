// appinfo: what this daemon is. Public, so a client can learn how to sign in before it has.
import { z } from "zod";
import { api } from "../../protocol/api/index.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../../protocol/version.js";
import { isGoogleAvailable, PROVIDER } from "../accounts/google/config.js";
import { defineQuery } from "./define.js";
import { TABLES } from "../model/tables.js";

export const get = defineQuery(api.appinfo.get, {
  access: "public",
  args: z.strictObject({}),
  handler: (ctx) => {
    ctx.reads(TABLES.providers, PROVIDER);
    // What really works here: Google only once an admin has configured and enabled it.
    const signInMethods = ["local", "anonymous", "code", "recovery"];
    if (isGoogleAvailable(ctx.db)) signInMethods.push("google");
    return {
      version: PACKAGE_VERSION,
      protocol: PROTOCOL_VERSION,
      stateDir: ctx.services.paths.home,
      pid: process.pid,
      startedAt: ctx.services.startedAt,
      signInMethods,
    };
  },
});
