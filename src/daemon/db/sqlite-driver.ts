// Which better-sqlite3 this Node gets: 12 on Node 20, 13 from Node 22 on. Everything that opens a
// database or recognises SQLite's errors takes the driver from here, never from "better-sqlite3".
//
// Why two: better-sqlite3 12 wraps its objects in Node's own ObjectWrap, and Node 24 (from 24.19)
// aborts the process when V8 finalizes one of them with no current environment
// (`Assertion failed: (env) != nullptr` in RemoveEnvironmentCleanupHook; upstream
// WiseLibs/better-sqlite3#1515). 13 is a Node-API addon that ships prebuilt binaries for every
// platform inside its npm package (nothing to compile or download), but needs Node 22 and crashes
// Node 20 with a segmentation fault. Both are optional dependencies, so an install on one line is
// not broken by the other's build; the one this Node needs is loaded, the other as a fallback.
import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";

export type Driver = typeof BetterSqlite3;

const NODE_MAJOR = Number(process.versions.node.split(".")[0]);

/** The package this Node runs best with, then the one to try if that is not installed. */
export const DRIVER_PACKAGES: readonly string[] = NODE_MAJOR >= 22 ? ["better-sqlite3-13", "better-sqlite3"] : ["better-sqlite3"];

function loadDriver(): { name: string; driver: Driver } {
  const require = createRequire(import.meta.url);
  const problems: string[] = [];
  for (const name of DRIVER_PACKAGES) {
    try {
      return { name, driver: require(name) as Driver };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Only a missing package is a reason to try the next one; a broken build is worth its own message.
      if (code !== "MODULE_NOT_FOUND") {
        throw new Error(
          `ocfleet's SQLite driver (${name}) does not load on Node ${process.versions.node}: ${(err as Error).message}; reinstall opencode-fleet`,
        );
      }
      problems.push(name);
    }
  }
  throw new Error(
    `ocfleet's SQLite driver is not installed for Node ${process.versions.node} (looked for ${problems.join(", ")}); reinstall opencode-fleet with optional dependencies (npm install -g opencode-fleet)`,
  );
}

const loaded = loadDriver();

/** The name of the package the driver came from (the daemon's start line in its log says it). */
export const driverPackage = loaded.name;
/** better-sqlite3's Database class (the same API on 12 and 13). */
export const Database: Driver = loaded.driver;
/** The error class SQLite's failures are thrown as, from the same driver. */
export const SqliteError = loaded.driver.SqliteError;
