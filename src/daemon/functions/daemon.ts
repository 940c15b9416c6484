// daemon: the process's own health, and a graceful stop on request. Both are for the machine's
// OS user (access "local"), signed in or not: that user could signal the process anyway.
import { statSync } from "node:fs";
import { z } from "zod";
import { api } from "../../protocol/api/index.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../../protocol/version.js";
import { schemaVersion } from "../db/open.js";
import { defineAction, defineQuery } from "./define.js";

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export const status = defineQuery(api.daemon.status, {
  access: "local",
  args: z.strictObject({}),
  handler: (ctx) => {
    const { paths } = ctx.services;
    return {
      pid: process.pid,
      version: PACKAGE_VERSION,
      protocol: PROTOCOL_VERSION,
      startedAt: ctx.services.startedAt,
      uptimeMs: ctx.now - ctx.services.startedAt,
      listen: ctx.services.listenAddress(),
      stateDir: paths.home,
      logPath: paths.log,
      db: {
        path: paths.db,
        sizeBytes: fileSize(paths.db),
        walBytes: fileSize(`${paths.db}-wal`),
        schemaVersion: schemaVersion(ctx.db),
      },
      ...ctx.services.connectionStats(),
      rssBytes: process.memoryUsage.rss(),
    };
  },
});

export const stop = defineAction(api.daemon.stop, {
  access: "local",
  args: z.strictObject({}),
  handler: async (ctx) => {
    ctx.services.requestStop(`requested by ${ctx.user?.name ?? "the local OS user"}`);
    return { stopping: true as const, pid: process.pid };
  },
});
