// Migration 0013 keeps the name of a removed machine on the chats of its workers. On a database
// with data (from version 12) every chat is kept and none says its machine was removed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { migrate } from "../../src/daemon/db/migrate.js";
import { migrations } from "../../src/daemon/db/migrations/index.js";
import { openDatabase, schemaVersion } from "../../src/daemon/db/open.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

it("adds chats.removed_machine through 0013, null on the chats already there", () => {
  const dir = mkdtempSync(join(tmpdir(), "ocf-migrate-"));
  dirs.push(dir);
  const path = join(dir, "state.db");
  const db = openDatabase(path);
  migrate(db, migrations.slice(0, 12), { dbPath: path });
  expect(schemaVersion(db)).toBe(12);
  db.exec(`
    INSERT INTO users (id, name, level, is_anonymous, is_owner, created_at, updated_at) VALUES ('usr_1', 'olga', 'system_admin', 1, 1, 0, 0);
    INSERT INTO machines (id, name, hostname, is_local, approval, online, created_at, updated_at) VALUES ('mch_1', 'box', 'box', 1, 'approved', 0, 0, 0);
    INSERT INTO workers (id, machine_id, name, directory, approval, desired_state, run_state, state_changed_at, created_by, created_at, updated_at)
      VALUES ('wrk_1', 'mch_1', 'api', '/code/api', 'approved', 'running', 'offline', 0, 'usr_1', 0, 0);
    INSERT INTO chats (id, worker_id, worker_name, owner_id, title, title_source, state, last_activity_at, created_at, updated_at)
      VALUES ('cht_1', 'wrk_1', 'api', 'usr_1', 'fix the test', 'auto', 'active', 0, 0, 0);
  `);

  migrate(db, migrations, { dbPath: path });
  expect(schemaVersion(db)).toBe(13);
  expect(db.prepare("SELECT id, worker_name, removed_machine FROM chats").all()).toEqual([{ id: "cht_1", worker_name: "api", removed_machine: null }]);
  db.close();
});
