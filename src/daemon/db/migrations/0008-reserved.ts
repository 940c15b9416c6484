// A placeholder for migration 8, which another branch (the hub) uses; the lead drops this file when merging.
import type { Migration } from "../migrate.js";

export const reserved8: Migration = {
  version: 8,
  name: "reserved",
  up() {},
};
