// Where this package is installed: found by walking up to our package.json, so it is right
// from src/ (tests), from the bundle in dist/, and from a global npm install alike.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findPackageRoot(from: string): { root: string; version: string } {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "opencode-fleet" && pkg.version) return { root: dir, version: pkg.version };
    }
    if (dirname(dir) === dir) throw new Error(`cannot find the opencode-fleet package.json above ${from}`);
  }
}

const found = findPackageRoot(fileURLToPath(import.meta.url));

export const PACKAGE_ROOT = found.root;
export const PACKAGE_JSON_VERSION = found.version;

/**
 * A hash of the built bundle (written by `npm run build`), so two builds of one version are told
 * apart: a client never keeps talking to a daemon started from older code. Null before a build.
 */
export const BUILD_ID: string | null = (() => {
  try {
    return readFileSync(join(PACKAGE_ROOT, "dist", "build-id"), "utf8").trim() || null;
  } catch {
    return null;
  }
})();
