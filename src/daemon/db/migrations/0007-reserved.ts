// Reserved for another branch's 0007. A no-op here; when the branches meet, the real 0007 replaces this file.
import type { Migration } from "../migrate.js";

export const reserved7: Migration = { version: 7, name: "reserved-7", up() {} };
