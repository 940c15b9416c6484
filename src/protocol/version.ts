// Versions that the client and the daemon compare at hello.
import { BUILD_ID, PACKAGE_JSON_VERSION } from "../platform/package-root.js";

/** Bumped whenever frames or method semantics change incompatibly. */
export const PROTOCOL_VERSION = 1;

/**
 * The package version from package.json, with the build's hash as semver build metadata
 * ("0.1.0+3f2a9c01de"). Client and daemon must match exactly, or the daemon is replaced.
 */
export const PACKAGE_VERSION: string = BUILD_ID ? `${PACKAGE_JSON_VERSION}+${BUILD_ID}` : PACKAGE_JSON_VERSION;
