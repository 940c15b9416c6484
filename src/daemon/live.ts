// Live queries: a query records what it reads, a mutation what it writes, both at (table, key) grain.
// After a commit the affected subscriptions run again (once per tick, however many writes),
// and a subscriber gets a patch only if the result really changed.
import { diff, type PatchOp } from "../protocol/patch.js";

/** A key of "*" on a read means "any row of this table"; on a write, "every reader of this table". */
export const ANY_KEY = "*";

export type Dependency = readonly [table: string, key: string];

/** The set of (table, key) pairs one evaluation read, or one transaction wrote. */
export class DependencySet {
  readonly byTable = new Map<string, Set<string>>();

  add(table: string, key: string = ANY_KEY): void {
    let keys = this.byTable.get(table);
    if (!keys) this.byTable.set(table, (keys = new Set()));
    keys.add(key);
  }

  get size(): number {
    let n = 0;
    for (const keys of this.byTable.values()) n += keys.size;
    return n;
  }

  *entries(): IterableIterator<Dependency> {
    for (const [table, keys] of this.byTable) for (const key of keys) yield [table, key];
  }
}

/** What a subscriber receives: the whole value, a patch against the last one, or an error. */
export type Delivery =
  | { kind: "value"; value: unknown }
  | { kind: "patch"; ops: PatchOp[] }
  | { kind: "error"; error: unknown };

export interface LiveQuery {
  /** Runs the query, recording its reads into `reads`. Throws to report an error to the subscriber. */
  evaluate(reads: DependencySet): unknown;
  deliver(delivery: Delivery): void;
}

interface Entry {
  query: LiveQuery;
  deps: DependencySet;
  lastJson: string | undefined;
  lastValue: unknown;
  lastErrorJson: string | undefined;
}

export interface LiveStats {
  subscriptions: number;
  evaluations: number;
  deliveries: number;
  skippedUnchanged: number;
}

export class LiveQueries {
  private readonly entries = new Map<LiveQuery, Entry>();
  /** table → key → subscriptions that read it. */
  private readonly index = new Map<string, Map<string, Set<Entry>>>();
  private pending = new DependencySet();
  private flushScheduled = false;
  private readonly stats: LiveStats = { subscriptions: 0, evaluations: 0, deliveries: 0, skippedUnchanged: 0 };

  constructor(
    private readonly schedule: (flush: () => void) => void = (flush) => setImmediate(flush),
    private readonly describeError: (err: unknown) => string = (err) => String(err),
  ) {}

  /** Starts a subscription: evaluates it now and delivers the first value (or error). */
  add(query: LiveQuery): void {
    const entry: Entry = { query, deps: new DependencySet(), lastJson: undefined, lastValue: undefined, lastErrorJson: undefined };
    this.entries.set(query, entry);
    this.evaluate(entry);
  }

  remove(query: LiveQuery): void {
    const entry = this.entries.get(query);
    if (!entry) return;
    this.unindex(entry);
    this.entries.delete(query);
  }

  /** Reports committed writes (or in-memory state that queries read). Re-evaluation happens on the next tick. */
  changed(writes: Iterable<Dependency>): void {
    let any = false;
    for (const [table, key] of writes) {
      this.pending.add(table, key);
      any = true;
    }
    if (any && !this.flushScheduled) {
      this.flushScheduled = true;
      this.schedule(() => this.flush());
    }
  }

  /** Re-evaluates every subscription affected by the writes reported since the last flush. */
  flush(): void {
    this.flushScheduled = false;
    const writes = this.pending;
    this.pending = new DependencySet();
    const affected = new Set<Entry>();
    for (const [table, keys] of writes.byTable) {
      const readers = this.index.get(table);
      if (!readers) continue;
      if (keys.has(ANY_KEY)) {
        for (const set of readers.values()) for (const entry of set) affected.add(entry);
        continue;
      }
      for (const key of keys) for (const entry of readers.get(key) ?? []) affected.add(entry);
      for (const entry of readers.get(ANY_KEY) ?? []) affected.add(entry);
    }
    for (const entry of affected) {
      // A subscriber removed during this flush must not be evaluated again.
      if (this.entries.get(entry.query) === entry) this.evaluate(entry);
    }
  }

  getStats(): LiveStats {
    return { ...this.stats, subscriptions: this.entries.size };
  }

  private evaluate(entry: Entry): void {
    this.stats.evaluations++;
    const reads = new DependencySet();
    let value: unknown;
    let error: unknown;
    let failed = false;
    try {
      value = entry.query.evaluate(reads);
    } catch (err) {
      failed = true;
      error = err;
    }
    this.reindex(entry, reads);
    if (failed) {
      const errorJson = this.describeError(error);
      if (errorJson === entry.lastErrorJson) return this.skip();
      entry.lastErrorJson = errorJson;
      entry.lastJson = undefined;
      entry.lastValue = undefined;
      return this.send(entry, { kind: "error", error });
    }
    const json = JSON.stringify(value ?? null);
    if (json === entry.lastJson) return this.skip();
    const first = entry.lastJson === undefined;
    const previous = entry.lastValue;
    entry.lastJson = json;
    entry.lastValue = JSON.parse(json); // a private copy: the query's own object may be reused
    entry.lastErrorJson = undefined;
    if (first) return this.send(entry, { kind: "value", value: entry.lastValue });
    const ops = diff(previous, entry.lastValue);
    // A patch that is bigger than the value helps no one.
    if (JSON.stringify(ops).length >= json.length) this.send(entry, { kind: "value", value: entry.lastValue });
    else this.send(entry, { kind: "patch", ops });
  }

  private send(entry: Entry, delivery: Delivery): void {
    this.stats.deliveries++;
    entry.query.deliver(delivery);
  }

  private skip(): void {
    this.stats.skippedUnchanged++;
  }

  private reindex(entry: Entry, reads: DependencySet): void {
    this.unindex(entry);
    entry.deps = reads;
    for (const [table, key] of reads.entries()) {
      let keys = this.index.get(table);
      if (!keys) this.index.set(table, (keys = new Map()));
      let set = keys.get(key);
      if (!set) keys.set(key, (set = new Set()));
      set.add(entry);
    }
  }

  private unindex(entry: Entry): void {
    for (const [table, key] of entry.deps.entries()) {
      const keys = this.index.get(table);
      const set = keys?.get(key);
      if (!set) continue;
      set.delete(entry);
      if (set.size === 0) keys!.delete(key);
      if (keys!.size === 0) this.index.delete(table);
    }
  }
}
