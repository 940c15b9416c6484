// The package as users get it: `npm pack`, installed into a project of its own, runs, and ships
// only the chunks the current build uses (a build that did not clean dist/ once shipped two bundles).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { PACKAGE_VERSION } from "../../src/protocol/version.js";
import { cleanupHomes, createHome, REPO_ROOT } from "../helpers/daemon.js";

const run = promisify(execFile);
afterAll(cleanupHomes);

/** The dist/ files reachable from dist/main.js through static and dynamic imports. */
function reachableChunks(dist: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(join(dist, file), "utf8");
    for (const match of code.matchAll(/(?:from|import)\s*\(?\s*["']\.\/([\w.-]+\.js)["']/g)) visit(match[1]!);
  };
  visit("main.js");
  return seen;
}

describe("the packed tarball", () => {
  it("installs into a fresh project, runs `ocfleet version`, and holds no chunk the build does not use", async () => {
    const project = mkdtempSync(join(tmpdir(), "ocf-pack-"));
    // --ignore-scripts: pack the dist/ that `npm test` has just built, without building again.
    const packed = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", project], { cwd: REPO_ROOT });
    const [tarball] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const shipped = tarball!.files.map((file) => file.path);
    expect(shipped).toContain("bin/ocfleet.js");
    expect(shipped).toContain("dist/main.js");
    expect(shipped.filter((path) => path.startsWith("src/") || path.startsWith("test/") || path.endsWith(".map"))).toEqual([]);

    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "ocfleet-pack-smoke", private: true }));
    // Nothing compiles (`ocfleet version` needs no native module) and the cache serves the dependencies.
    await run(
      "npm",
      ["install", join(project, tarball!.filename), "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund", "--omit=optional", "--no-package-lock"],
      { cwd: project },
    );
    const installed = join(project, "node_modules", "opencode-fleet");
    const reachable = reachableChunks(join(installed, "dist"));
    const chunks = shipped.filter((path) => /^dist\/[^/]+\.js$/.test(path)).map((path) => path.slice("dist/".length));
    expect(chunks.filter((chunk) => !reachable.has(chunk))).toEqual([]);

    const version = await run(join(project, "node_modules", ".bin", "ocfleet"), ["version"], {
      env: { ...process.env, NO_COLOR: "1", OCFLEET_HOME: createHome() },
    });
    expect(version.stdout).toContain(`ocfleet ${PACKAGE_VERSION} (protocol`);
    expect(version.stdout).toContain("daemon: not running");
  });
});
