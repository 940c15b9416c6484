// Errors of the store itself (a full disk, a failing one), told apart from bugs, and said in a
// user's words: what happened and what to do next.
import { SqliteError } from "./sqlite-driver.js";

/** What went wrong with the store, in one line for a user, or null if `err` is not a store fault. */
export function storeFault(err: unknown): string | null {
  if (!(err instanceof SqliteError)) return null;
  const code = err.code;
  if (code === "SQLITE_FULL") {
    return "the disk is full: ocfleet could not save to its database; free some space where ocfleet keeps its state, then try again";
  }
  if (code.startsWith("SQLITE_IOERR")) return `the disk failed a write to ocfleet's database (${code}); check the disk, then try again`;
  if (code === "SQLITE_READONLY" || code.startsWith("SQLITE_READONLY_")) {
    return `ocfleet's database cannot be written (${code}); check the state directory's permissions and disk`;
  }
  return null;
}
