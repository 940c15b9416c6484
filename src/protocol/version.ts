// Versions that the client and the daemon compare at hello.
import { PACKAGE_JSON_VERSION } from "../platform/package-root.js";

/** Bumped whenever frames or method semantics change incompatibly. */
export const PROTOCOL_VERSION = 1;

/** The package version, from package.json, so it can never drift from the release. */
export const PACKAGE_VERSION: string = PACKAGE_JSON_VERSION;
