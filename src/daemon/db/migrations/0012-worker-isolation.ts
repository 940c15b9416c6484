// A worker may ask for an OpenCode process of its own (`worker add --isolated`); by default workers
// with the same binary and environment share one (agent/process-group.ts).
import type { Migration } from "../migrate.js";

export const workerIsolation: Migration = {
  version: 12,
  name: "worker-isolation",
  up(db) {
    db.exec("ALTER TABLE workers ADD COLUMN isolated INTEGER NOT NULL DEFAULT 0 CHECK (isolated IN (0, 1))");
  },
};
