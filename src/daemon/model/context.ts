// The data layer's contract: what code over the tables sees (the database, one "now", and the
// reads and writes it records for live queries), and the internal queries and mutations that the
// daemon's services run. Internal functions have no wire name and no access level: nothing
// dispatches them, whoever asks.
import type { UserId } from "../../protocol/ids.js";
import type { Db } from "../db/open.js";
import type { Table } from "./tables.js";

export type UserLevel = "user" | "system_admin";

/** A signed-in user, as a call sees them. */
export interface CallerUser {
  id: UserId;
  name: string;
  level: UserLevel;
}

export interface ReadCtx {
  db: Db;
  /** One clock reading per call, in ms since the epoch, so a call sees one consistent "now". */
  now: number;
  /** Records that this evaluation read (table, key); no key means the whole table. */
  reads(table: Table, key?: string): void;
}

export interface WriteCtx extends ReadCtx {
  /** Records that this transaction wrote (table, key), so readers of it are evaluated again. */
  writes(table: Table, key?: string): void;
  /**
   * Declares that this transaction changes rows under `table` that no live query can see yet (a
   * reply still streaming), so no reader is evaluated again. Only the write check reads it.
   */
  writesUnseen(table: Table): void;
}

/** A query the daemon runs itself; `Ctx` is what its handler needs (the data layer's need no more than ReadCtx). */
export interface InternalQuery<Args = any, R = any, Ctx extends ReadCtx = ReadCtx> {
  kind: "query";
  internal: true;
  handler(ctx: Ctx, args: Args): R;
}

/** A mutation the daemon runs itself, in its own transaction. */
export interface InternalMutation<Args = any, R = any, Ctx extends WriteCtx = WriteCtx> {
  kind: "mutation";
  internal: true;
  handler(ctx: Ctx, args: Args): R;
}

export function internalQuery<Args, R>(handler: (ctx: ReadCtx, args: Args) => R): InternalQuery<Args, R> {
  return { kind: "query", internal: true, handler };
}

export function internalMutation<Args, R>(handler: (ctx: WriteCtx, args: Args) => R): InternalMutation<Args, R> {
  return { kind: "mutation", internal: true, handler };
}

/** How services run internal functions: as the daemon itself, with their writes reaching live queries. */
export interface InternalRunner {
  runQuery<A, R>(def: InternalQuery<A, R>, args: A): R;
  runMutation<A, R>(def: InternalMutation<A, R>, args: A): R;
}
