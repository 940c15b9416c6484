// The migration runner: new databases to the latest schema, older ones carried forward with a backup,
// a newer one refused, a failing migration rolled back, and the single-instance lock.
import { existsSync, readdirSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { checkMigrationList, migrate, type Migration } from "../../src/daemon/db/migrate.js";
import { migrations } from "../../src/daemon/db/migrations/index.js";
import { openDatabase, schemaVersion } from "../../src/daemon/db/open.js";
import { ensureOwnerUser } from "../../src/daemon/identity.js";
import { FleetError } from "../../src/protocol/errors.js";
import { removeTempDatabases, tempDatabase } from "../helpers/migrations.js";

afterEach(removeTempDatabases);

const createTable = (version: number, table: string): Migration => ({
  version,
  name: `create-${table}`,
  up: (db) => db.exec(`CREATE TABLE ${table} (id INTEGER PRIMARY KEY, v TEXT)`),
});

describe("migrations", () => {
  it("bring a new database to the latest schema, with every table the code uses", () => {
    const { db, path } = tempDatabase();
    const outcome = migrate(db, migrations, { dbPath: path });
    expect(outcome).toEqual({ from: 0, to: migrations.length, backup: null });
    expect(schemaVersion(db)).toBe(migrations.length);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
    expect(tables).toEqual(
      expect.arrayContaining([
        "users",
        "checklists",
        "checklist_items",
        "sessions",
        "identities",
        "recovery_codes",
        "login_codes",
        "login_requests",
        "provider_configs",
        "audit_log",
      ]),
    );
    expect(tables).toEqual(
      expect.arrayContaining([
        "attendance_sheets",
        "attendance_entries",
        "discussions",
        "discussion_messages",
        "discussion_conclusions",
        "presentations",
        "presentation_slides",
        "schedules",
        "schedule_runs",
        "job_runs",
      ]),
    );
    expect(migrate(db, migrations, { dbPath: path })).toEqual({ from: migrations.length, to: migrations.length, backup: null });
  });

  it("keep the owner of a foundation-era database: it becomes the anonymous owner that local sign-in uses", () => {
    const { db, path } = tempDatabase();
    migrate(db, migrations.slice(0, 1), { dbPath: path });
    db.prepare("INSERT INTO users (id, name, level, is_owner, created_at, updated_at) VALUES ('usr_0000000000000001', 'alice', 'system_admin', 1, 1, 1)").run();
    migrate(db, migrations, { dbPath: path });
    expect(db.prepare("SELECT name, level, is_anonymous FROM users").all()).toEqual([{ name: "alice", level: "system_admin", is_anonymous: 1 }]);
    const { owner, created } = db.transaction(() => ensureOwnerUser(db, Date.now())).immediate();
    expect(created).toBe(false);
    expect(owner).toMatchObject({ id: "usr_0000000000000001", name: "alice" });
  });

  it("back up the database before upgrading it, and keep the data", () => {
    const { db, path, dir } = tempDatabase();
    migrate(db, [createTable(1, "a")], { dbPath: path });
    db.prepare("INSERT INTO a (v) VALUES ('kept')").run();
    const outcome = migrate(db, [createTable(1, "a"), createTable(2, "b")], { dbPath: path });
    expect(outcome.from).toBe(1);
    expect(outcome.to).toBe(2);
    expect(outcome.backup).not.toBeNull();
    expect(existsSync(outcome.backup!)).toBe(true);
    const backup = openDatabase(outcome.backup!);
    expect(schemaVersion(backup)).toBe(1);
    expect(backup.prepare("SELECT v FROM a").get()).toEqual({ v: "kept" });
    backup.close();
    expect(readdirSync(dir).filter((f) => f.endsWith(".bak"))).toHaveLength(1);
  });

  it("keep only the last three backups", () => {
    const { db, path, dir } = tempDatabase();
    const list: Migration[] = [createTable(1, "t1")];
    migrate(db, list, { dbPath: path });
    for (let v = 2; v <= 6; v++) {
      list.push(createTable(v, `t${v}`));
      migrate(db, list, { dbPath: path, now: () => new Date(Date.UTC(2026, 0, v)) });
    }
    expect(readdirSync(dir).filter((f) => f.endsWith(".bak"))).toHaveLength(3);
  });

  it("refuse a database from a newer ocfleet with a clear message, and change nothing", () => {
    const { db, path } = tempDatabase();
    db.pragma("user_version = 99");
    let error: unknown;
    try {
      migrate(db, migrations, { dbPath: path });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FleetError);
    expect((error as FleetError).message).toMatch(/schema version 99.*Upgrade ocfleet/);
    expect(schemaVersion(db)).toBe(99);
  });

  it("roll back a migration that fails, leaving the version where it was", () => {
    const { db, path } = tempDatabase();
    migrate(db, [createTable(1, "a")], { dbPath: path });
    const failing: Migration = {
      version: 2,
      name: "half-done",
      up: (d) => {
        d.exec("CREATE TABLE half (x)");
        throw new Error("boom");
      },
    };
    expect(() => migrate(db, [createTable(1, "a"), failing], { dbPath: path })).toThrow("boom");
    expect(schemaVersion(db)).toBe(1);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
  });

  it("insist on consecutive version numbers", () => {
    expect(() => checkMigrationList([createTable(1, "a"), createTable(3, "c")])).toThrow(/expected 2/);
    expect(() => checkMigrationList(migrations)).not.toThrow();
  });

  it("take the single-instance lock: a second exclusive open is refused at once", () => {
    const { path } = tempDatabase();
    const first = openDatabase(path, { exclusive: true });
    // A second process would see the same SQLITE_BUSY; within one process SQLite enforces it too.
    expect(() => openDatabase(path, { exclusive: true })).toThrow(/locked/);
    first.close();
    openDatabase(path, { exclusive: true }).close();
  });
});
