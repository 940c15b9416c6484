// The daemon process itself: its health, and stopping it.
import { action, defineModule, query, type NoArgs } from "./define.js";

export interface DaemonStatus {
  pid: number;
  version: string;
  protocol: number;
  startedAt: number;
  uptimeMs: number;
  listen: { host: string; port: number };
  stateDir: string;
  logPath: string;
  db: { path: string; sizeBytes: number; walBytes: number; schemaVersion: number };
  connections: number;
  subscriptions: number;
  rssBytes: number;
}

export const daemon = defineModule("daemon", {
  status: query<NoArgs, DaemonStatus>(),
  /** Replies first, then shuts down gracefully. */
  stop: action<NoArgs, { stopping: true; pid: number }>(),
});
