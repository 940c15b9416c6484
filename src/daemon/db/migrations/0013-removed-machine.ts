// A chat whose worker went with its machine (`machine remove`) says so: the machine's name is kept
// on the chat, as chats.worker_name keeps the worker's.
import type { Migration } from "../migrate.js";

export const removedMachine: Migration = {
  version: 13,
  name: "removed-machine",
  up(db) {
    db.exec("ALTER TABLE chats ADD COLUMN removed_machine TEXT");
  },
};
