// The missing-write check (on in tests, OCFLEET_CHECK_WRITES=1): every SQL table a mutation
// changed must be declared with ctx.writes (under its live-query table), or the mutation fails
// (ctx.writesUnseen declares a change no live query can see yet, such as a reply still streaming).
// A mutation that changes rows without declaring them leaves every live view of them stale
// without an error, which no test would otherwise notice.
//
// Which tables a transaction touched is recorded by TEMP triggers (this connection only, never
// in state.db) into a TEMP table, so rows changed by ON DELETE CASCADE and by triggers count too.
// (Not INSERT OR IGNORE: a trigger takes the conflict policy of the statement that fired it.)
import { FleetError } from "../../protocol/errors.js";
import type { Db } from "../db/open.js";
import { LIVE_TABLE_OF_SQL } from "./tables.js";

export class WriteCheck {
  private readonly clear;
  private readonly touched;

  constructor(db: Db) {
    db.exec("CREATE TEMP TABLE IF NOT EXISTS write_check_touched (name TEXT PRIMARY KEY) WITHOUT ROWID");
    const all = db.prepare("SELECT name, sql FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as {
      name: string;
      sql: string;
    }[];
    // SQLite refuses triggers on a virtual table (the search index) and its shadow tables; the rows
    // they index are checked instead.
    const virtual = all.filter((t) => /^CREATE VIRTUAL TABLE/i.test(t.sql)).map((t) => t.name);
    const tables = all.filter((t) => !virtual.some((v) => t.name === v || t.name.startsWith(`${v}_`)));
    for (const { name } of tables) {
      for (const event of ["INSERT", "UPDATE", "DELETE"]) {
        db.exec(
          `CREATE TEMP TRIGGER IF NOT EXISTS write_check_${name}_${event.toLowerCase()} AFTER ${event} ON main."${name}"
           BEGIN INSERT INTO write_check_touched (name) SELECT '${name}' WHERE NOT EXISTS (SELECT 1 FROM write_check_touched WHERE name = '${name}'); END`,
        );
      }
    }
    this.clear = db.prepare("DELETE FROM temp.write_check_touched");
    this.touched = db.prepare("SELECT name FROM temp.write_check_touched ORDER BY name");
  }

  /** Call inside the transaction, before the handler runs. */
  begin(): void {
    this.clear.run();
  }

  /**
   * Call inside the transaction, after the handler: throws (rolling the transaction back) if a
   * touched SQL table's live-query table was neither written nor declared unseen.
   */
  verify(mutation: string, declared: ReadonlySet<string>): void {
    const missing: string[] = [];
    for (const { name } of this.touched.all() as { name: string }[]) {
      const live = LIVE_TABLE_OF_SQL[name];
      if (live === undefined) missing.push(`${name} (not in LIVE_TABLE_OF_SQL in model/tables.ts)`);
      else if (live !== null && !declared.has(live)) missing.push(`${name} (declare ctx.writes(TABLES…, …) for '${live}')`);
    }
    this.clear.run();
    if (missing.length > 0) throw new MissingWriteError(mutation, missing);
  }
}

/** A FleetError, so that the test that tripped it shows the cause rather than "internal error in the daemon". */
export class MissingWriteError extends FleetError {
  constructor(
    readonly mutation: string,
    readonly tables: string[],
  ) {
    super("internal", `mutation ${mutation} changed rows without declaring a write: ${tables.join(", ")}`, { tables });
    this.name = "MissingWriteError";
  }
}

/** Whether the check is on: tests turn it on for every daemon they start (vitest.config.ts). */
export function writeCheckEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.OCFLEET_CHECK_WRITES === "1";
}
