// Reserved for the worker access model (another branch's 0006). A no-op here so that this branch's
// 0008 has its predecessors; when the branches meet, the real 0006 replaces this file.
import type { Migration } from "../migrate.js";

export const reserved6: Migration = { version: 6, name: "reserved-6", up() {} };
