// Full-text search over the stored message parts: an FTS5 index with external content (the text
// stays in message_parts only), the parts already stored indexed (backfill), and triggers that take
// a part out of the index when it changes or goes, so the index never holds text no row has.
// New final parts are put in by the write path that stores them (model/search.ts).
import type { Migration } from "../migrate.js";

/**
 * The searchable text of a part row (`p` is the row's alias): text and reasoning as they are, a
 * tool call's name, title, input, output and error, a patch's file names. The same expression
 * feeds the index (through the view) and takes text out of it (in the triggers), as FTS5's
 * external content requires: a delete must present exactly the text that was indexed.
 */
function bodyOf(p: string): string {
  return `CASE ${p}.kind
    WHEN 'text' THEN ${p}.data ->> '$.text'
    WHEN 'reasoning' THEN ${p}.data ->> '$.text'
    WHEN 'tool' THEN concat_ws(char(10), ${p}.data ->> '$.tool', ${p}.data ->> '$.title', json_extract(${p}.data, '$.input'), ${p}.data ->> '$.output', ${p}.data ->> '$.error')
    WHEN 'patch' THEN json_extract(${p}.data, '$.files')
    ELSE NULL END`;
}

export const search: Migration = {
  version: 10,
  name: "search",
  up(db) {
    db.exec(`
      -- 1 while the part's text is in the index (final parts only: a reply's parts while it streams are not).
      ALTER TABLE message_parts ADD COLUMN indexed INTEGER NOT NULL DEFAULT 0 CHECK (indexed IN (0, 1));

      CREATE VIEW message_search_text (part_rowid, body) AS SELECT p.rowid, ${bodyOf("p")} FROM message_parts p;

      CREATE VIRTUAL TABLE message_search USING fts5 (
        body,
        content = 'message_search_text',
        content_rowid = 'part_rowid',
        tokenize = 'unicode61 remove_diacritics 2'
      );

      CREATE TRIGGER message_parts_unindex_on_delete AFTER DELETE ON message_parts WHEN old.indexed = 1 BEGIN
        INSERT INTO message_search (message_search, rowid, body) VALUES ('delete', old.rowid, ${bodyOf("old")});
      END;
      CREATE TRIGGER message_parts_unindex_on_change AFTER UPDATE OF kind, data ON message_parts WHEN old.indexed = 1 BEGIN
        INSERT INTO message_search (message_search, rowid, body) VALUES ('delete', old.rowid, ${bodyOf("old")});
        UPDATE message_parts SET indexed = 0 WHERE rowid = new.rowid;
      END;

      -- The backfill: every part of every message that is no longer streaming.
      UPDATE message_parts SET indexed = 1 WHERE message_id IN (SELECT id FROM messages WHERE status <> 'streaming');
      INSERT INTO message_search (rowid, body) SELECT t.part_rowid, t.body FROM message_search_text t JOIN message_parts p ON p.rowid = t.part_rowid WHERE p.indexed = 1;
    `);
  },
};
