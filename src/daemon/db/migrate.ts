// Runs numbered migrations under PRAGMA user_version, each in one immediate transaction.
import { readdirSync, statSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { FleetError } from "../../protocol/errors.js";
import { schemaVersion, type Db } from "./open.js";

export interface Migration {
  version: number;
  name: string;
  up(db: Db): void;
  /**
   * Runs with foreign keys off (SQLite's way to rebuild a table others reference: dropping the old
   * one would otherwise cascade). The transaction is refused if any reference is left dangling.
   */
  foreignKeysOff?: boolean;
}

export interface MigrationOutcome {
  from: number;
  to: number;
  backup: string | null;
}

/** How many pre-upgrade backups to keep beside the database. */
const KEEP_BACKUPS = 3;

export function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
  });
}

/**
 * Brings the database to the newest schema. Backs up a non-empty database before changing it,
 * and refuses one that a newer ocfleet has already upgraded.
 */
export function migrate(db: Db, migrations: readonly Migration[], options: { dbPath: string; now?: () => Date }): MigrationOutcome {
  checkMigrationList(migrations);
  const latest = migrations.length;
  const from = schemaVersion(db);
  if (from > latest) {
    throw new FleetError(
      "failed_precondition",
      `${options.dbPath} has schema version ${from}, but this ocfleet knows only up to ${latest}. ` +
        `Upgrade ocfleet, or set OCFLEET_HOME to another directory.`,
      { schemaVersion: from, supported: latest },
    );
  }
  if (from === latest) return { from, to: latest, backup: null };

  let backup: string | null = null;
  if (from > 0 && options.dbPath !== ":memory:") {
    const stamp = (options.now?.() ?? new Date()).toISOString().replace(/[:.]/g, "-");
    backup = `${options.dbPath}.v${from}-${stamp}.bak`;
    db.prepare("VACUUM INTO ?").run(backup);
    pruneBackups(options.dbPath);
  }
  for (const migration of migrations.slice(from)) {
    // The pragma is a no-op inside a transaction, so it is set around it.
    const foreignKeys = db.pragma("foreign_keys", { simple: true }) as number;
    if (migration.foreignKeysOff) db.pragma("foreign_keys = OFF");
    try {
      db.transaction(() => {
        migration.up(db);
        if (migration.foreignKeysOff) {
          const dangling = db.pragma("foreign_key_check") as { table: string; parent: string }[];
          if (dangling.length > 0)
            throw new Error(`migration ${migration.name} left ${dangling.length} dangling references (${dangling[0]!.table} → ${dangling[0]!.parent})`);
        }
        db.pragma(`user_version = ${migration.version}`);
      }).immediate();
    } finally {
      if (migration.foreignKeysOff) db.pragma(`foreign_keys = ${foreignKeys ? "ON" : "OFF"}`);
    }
  }
  return { from, to: latest, backup };
}

function pruneBackups(dbPath: string): void {
  const dir = dirname(dbPath);
  const prefix = `${basename(dbPath)}.v`;
  const backups = readdirSync(dir)
    .filter((name) => name.startsWith(prefix) && name.endsWith(".bak"))
    .map((name) => ({ path: join(dir, name), mtime: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => a.mtime - b.mtime);
  for (const old of backups.slice(0, Math.max(0, backups.length - KEEP_BACKUPS))) unlinkSync(old.path);
}
