// Migration 0006 rebuilds the chats table so chats outlive their worker. On a database with data
// (from version 5), every chat, message and part is kept, the worker's name is recorded on the
// chat, and removing the worker afterwards leaves the transcript (which remembers the worker it was on).
import { afterEach, expect, it } from "vitest";
import { migrate } from "../../src/daemon/db/migrate.js";
import { migrations } from "../../src/daemon/db/migrations/index.js";
import { schemaVersion } from "../../src/daemon/db/open.js";
import { databaseAtVersion, insertOwnerMachineAndWorker, removeTempDatabases } from "../helpers/migrations.js";

afterEach(removeTempDatabases);

it("keeps every chat and message through 0006, names the worker on the chat, and keeps them when the worker is removed", () => {
  const { db, path } = databaseAtVersion(5);
  insertOwnerMachineAndWorker(db);
  db.exec(`
    INSERT INTO chats (id, worker_id, owner_id, title, title_source, state, last_activity_at, created_at, updated_at)
      VALUES ('cht_1', 'wrk_1', 'usr_1', 'fix the test', 'auto', 'active', 0, 0, 0);
    INSERT INTO messages (id, chat_id, seq, role, status, created_at) VALUES ('msg_1', 'cht_1', 1, 'user', 'sent', 0);
    INSERT INTO message_parts (message_id, part_id, seq, kind, data) VALUES ('msg_1', 'text', 1, 'text', '{"kind":"text","text":"hello"}');
  `);

  migrate(db, migrations, { dbPath: path });
  expect(schemaVersion(db)).toBe(migrations.length);
  expect(db.pragma("foreign_keys", { simple: true })).toBe(1);
  expect(db.prepare("SELECT worker_id, worker_name, title FROM chats").all()).toEqual([{ worker_id: "wrk_1", worker_name: "api", title: "fix the test" }]);
  expect(db.prepare("SELECT COUNT(*) AS n FROM message_parts").get()).toEqual({ n: 1 });

  db.prepare("DELETE FROM workers WHERE id = 'wrk_1'").run();
  expect(db.prepare("SELECT worker_id, worker_name FROM chats").all()).toEqual([{ worker_id: "wrk_1", worker_name: "api" }]);
  expect(db.prepare("SELECT COUNT(*) AS n FROM messages").get()).toEqual({ n: 1 });
  db.close();
});
