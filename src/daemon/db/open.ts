// Opens state.db with the pragmas the daemon relies on.
import type BetterSqlite3 from "better-sqlite3";
import { Database } from "./sqlite-driver.js";

export type Db = BetterSqlite3.Database;

export interface OpenOptions {
  /**
   * Hold SQLite's exclusive lock for the life of the connection. The daemon uses this as its
   * single-instance lock: a second process gets SQLITE_BUSY at once, and the kernel releases
   * the lock when the holder dies, so it never goes stale.
   */
  exclusive?: boolean;
  /**
   * The most pages (4 KiB each) the file may grow to; past it every write that needs a new page
   * fails with SQLITE_FULL, exactly as on a full disk. Defaults to OCFLEET_DB_MAX_PAGES, a knob for
   * tests (it is how the fault tests fill the "disk") and for operators who want a hard cap.
   * SQLite never shrinks the limit below the file's current size.
   */
  maxPages?: number;
}

/** OCFLEET_DB_MAX_PAGES, if it is a positive whole number. */
function maxPagesFromEnv(): number | undefined {
  const value = Number(process.env.OCFLEET_DB_MAX_PAGES);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * Makes db.prepare return a cached statement for SQL it has seen, so handlers can write their SQL
 * inline without recompiling it on every call. (Statements are synchronous and not re-entrant, and
 * no handler iterates a statement while running the same SQL again.)
 */
function cacheStatements(db: Db): void {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, BetterSqlite3.Statement>();
  db.prepare = ((sql: string) => {
    let statement = cache.get(sql);
    if (!statement) cache.set(sql, (statement = prepare(sql)));
    return statement;
  }) as Db["prepare"];
}

export function openDatabase(path: string, options: OpenOptions = {}): Db {
  const db = new Database(path);
  cacheStatements(db);
  try {
    if (options.exclusive) {
      db.pragma("locking_mode = EXCLUSIVE");
      db.pragma("busy_timeout = 0");
    }
    // WAL: a killed process loses no committed transaction.
    db.pragma("journal_mode = WAL");
    if (options.exclusive) db.exec("BEGIN IMMEDIATE; COMMIT"); // takes the lock now, or throws SQLITE_BUSY
    // NORMAL is durable against process crashes in WAL mode; only a power loss can drop the last commits.
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
    const maxPages = options.maxPages ?? maxPagesFromEnv();
    if (maxPages !== undefined) db.pragma(`max_page_count = ${maxPages}`);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma("user_version", { simple: true }) as number;
}
