// Migration 0010 adds the search index. On a database with chats (from version 7) it indexes every
// stored part of every finished message, and none of a reply still streaming (recovery finishes
// that one, through the write path); from then on the index follows the rows.
import { afterEach, expect, it } from "vitest";
import { migrate } from "../../src/daemon/db/migrate.js";
import { migrations } from "../../src/daemon/db/migrations/index.js";
import { schemaVersion } from "../../src/daemon/db/open.js";
import { databaseAtVersion, insertOwnerMachineAndWorker, removeTempDatabases } from "../helpers/migrations.js";

afterEach(removeTempDatabases);

it("indexes the parts already stored, leaves a streaming reply out, and follows later changes", () => {
  const { db, path } = databaseAtVersion(7);
  insertOwnerMachineAndWorker(db);
  db.exec(`
    INSERT INTO chats (id, worker_id, worker_name, owner_id, title, title_source, state, last_activity_at, created_at, updated_at)
      VALUES ('cht_1', 'wrk_1', 'api', 'usr_1', 'zebra talk', 'auto', 'active', 0, 0, 0);
    INSERT INTO messages (id, chat_id, seq, role, status, created_at) VALUES ('msg_1', 'cht_1', 1, 'user', 'sent', 0);
    INSERT INTO messages (id, chat_id, seq, role, status, created_at) VALUES ('msg_2', 'cht_1', 2, 'assistant', 'completed', 0);
    INSERT INTO messages (id, chat_id, seq, role, status, created_at) VALUES ('msg_3', 'cht_1', 3, 'assistant', 'streaming', 0);
    INSERT INTO message_parts (message_id, part_id, seq, kind, data) VALUES ('msg_1', 'text', 1, 'text', '{"kind":"text","text":"tell me about zebras"}');
    INSERT INTO message_parts (message_id, part_id, seq, kind, data) VALUES ('msg_2', 'p1', 1, 'text', '{"kind":"text","text":"zebras have stripes"}');
    INSERT INTO message_parts (message_id, part_id, seq, kind, data)
      VALUES ('msg_2', 't1', 2, 'tool', '{"kind":"tool","tool":"bash","callId":"c","status":"completed","title":null,"input":{"command":"cat savanna.txt"},"output":"lions","error":null}');
    INSERT INTO message_parts (message_id, part_id, seq, kind, data) VALUES ('msg_3', 'p1', 1, 'text', '{"kind":"text","text":"half a giraffe"}');
  `);

  migrate(db, migrations, { dbPath: path });
  expect(schemaVersion(db)).toBe(migrations.length);
  const found = (q: string) =>
    (
      db
        .prepare("SELECT p.message_id AS id FROM message_search s JOIN message_parts p ON p.rowid = s.rowid WHERE message_search MATCH ? ORDER BY 1")
        .all(q) as { id: string }[]
    ).map((r) => r.id);
  expect(found("zebras")).toEqual(["msg_1", "msg_2"]);
  expect(found("savanna")).toEqual(["msg_2"]);
  expect(found("lions")).toEqual(["msg_2"]);
  expect(found("giraffe")).toEqual([]);

  // The triggers keep it in step: a changed part leaves the index (until the write path puts it
  // back), a deleted chat takes its text with it.
  db.prepare(`UPDATE message_parts SET data = '{"kind":"text","text":"horses"}' WHERE message_id = 'msg_2' AND part_id = 'p1'`).run();
  expect(found("stripes")).toEqual([]);
  db.prepare("DELETE FROM chats WHERE id = 'cht_1'").run();
  expect(found("zebras")).toEqual([]);
  expect(found("lions")).toEqual([]);
  expect(() => db.prepare("INSERT INTO message_search (message_search, rank) VALUES ('integrity-check', 1)").run()).not.toThrow();
  db.close();
});
