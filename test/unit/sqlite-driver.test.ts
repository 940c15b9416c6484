// The SQLite driver this Node loads (db/sqlite-driver.ts): better-sqlite3 12 on Node 20, 13 from
// Node 22 on (12 aborts Node 24 processes). Run on both lines by .ci/run, so a Node 24 run that
// silently fell back to 12 fails here instead of aborting somewhere later.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/daemon/db/open.js";
import { driverPackage, SqliteError } from "../../src/daemon/db/sqlite-driver.js";
import { storeFault } from "../../src/daemon/db/store-fault.js";

const dir = mkdtempSync(join(tmpdir(), "ocf-driver-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the SQLite driver", () => {
  it("is the one this Node line needs", () => {
    const major = Number(process.versions.node.split(".")[0]);
    expect(driverPackage).toBe(major >= 22 ? "better-sqlite3-13" : "better-sqlite3");
  });

  it("opens the store with its pragmas, and its errors are told apart as store faults", () => {
    const db = openDatabase(join(dir, "state.db"), { maxPages: 8 });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.exec("CREATE TABLE filler (text TEXT)");
    let thrown: unknown;
    try {
      const insert = db.prepare("INSERT INTO filler VALUES (?)");
      for (let i = 0; i < 100; i++) insert.run("x".repeat(4000));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SqliteError);
    expect((thrown as InstanceType<typeof SqliteError>).code).toBe("SQLITE_FULL");
    expect(storeFault(thrown)).toMatch(/^the disk is full/);
    db.close();
  });
});
