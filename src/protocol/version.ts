// Versions that the client and the daemon compare at hello.
import { readFileSync } from "node:fs";

/** Bumped whenever frames or method semantics change incompatibly. */
export const PROTOCOL_VERSION = 1;

/** The package version, read once from package.json so it can never drift from the release. */
export const PACKAGE_VERSION: string = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;
