// A placeholder for migration 9, which another branch uses; the lead drops this file when merging.
import type { Migration } from "../migrate.js";

export const reserved9: Migration = {
  version: 9,
  name: "reserved-9",
  up() {},
};
