// Databases for migration tests: temporary files (removed by `removeTempDatabases`, after each
// test), brought to an older schema version and given the rows a chat hangs from.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate } from "../../src/daemon/db/migrate.js";
import { migrations } from "../../src/daemon/db/migrations/index.js";
import { type Db, openDatabase } from "../../src/daemon/db/open.js";

export interface TempDatabase {
  db: Db;
  path: string;
  dir: string;
}

const dirs: string[] = [];

/** A new, empty database file in a directory of its own. */
export function tempDatabase(): TempDatabase {
  const dir = mkdtempSync(join(tmpdir(), "ocf-migrate-"));
  dirs.push(dir);
  const path = join(dir, "state.db");
  return { db: openDatabase(path), path, dir };
}

export function removeTempDatabases(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A temporary database at schema `version`: the first `version` migrations, as an older release left it. */
export function databaseAtVersion(version: number): TempDatabase {
  const temp = tempDatabase();
  migrate(temp.db, migrations.slice(0, version), { dbPath: temp.path });
  return temp;
}

/**
 * What a chat hangs from, as every schema since the chats came stores it: the owner `usr_1`
 * (olga), the local machine `mch_1` (box), and its worker `wrk_1` (api, in /code/api).
 */
export function insertOwnerMachineAndWorker(db: Db): void {
  db.exec(`
    INSERT INTO users (id, name, level, is_anonymous, is_owner, created_at, updated_at) VALUES ('usr_1', 'olga', 'system_admin', 1, 1, 0, 0);
    INSERT INTO machines (id, name, hostname, is_local, approval, online, created_at, updated_at) VALUES ('mch_1', 'box', 'box', 1, 'approved', 0, 0, 0);
    INSERT INTO workers (id, machine_id, name, directory, approval, desired_state, run_state, state_changed_at, created_by, created_at, updated_at)
      VALUES ('wrk_1', 'mch_1', 'api', '/code/api', 'approved', 'running', 'offline', 0, 'usr_1', 0, 0);
  `);
}
