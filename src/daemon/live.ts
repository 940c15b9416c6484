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

/** What read which (table, key), so a write finds its readers; "*" on either side means the whole table. */
class DependencyIndex<T> {
  private readonly byTable = new Map<string, Map<string, Set<T>>>();

  add(deps: Iterable<Dependency>, item: T): void {
    for (const [table, key] of deps) {
      let keys = this.byTable.get(table);
      if (!keys) this.byTable.set(table, (keys = new Map()));
      let set = keys.get(key);
      if (!set) keys.set(key, (set = new Set()));
      set.add(item);
    }
  }

  remove(deps: Iterable<Dependency>, item: T): void {
    for (const [table, key] of deps) {
      const keys = this.byTable.get(table);
      const set = keys?.get(key);
      if (!set) continue;
      set.delete(item);
      if (set.size === 0) keys!.delete(key);
      if (keys!.size === 0) this.byTable.delete(table);
    }
  }

  /** Adds to `into` every item that read something `writes` wrote. */
  collect(writes: DependencySet, into: Set<T>): void {
    for (const [table, keys] of writes.byTable) {
      const readers = this.byTable.get(table);
      if (!readers) continue;
      if (keys.has(ANY_KEY)) {
        for (const set of readers.values()) for (const item of set) into.add(item);
        continue;
      }
      for (const key of keys) for (const item of readers.get(key) ?? []) into.add(item);
      for (const item of readers.get(ANY_KEY) ?? []) into.add(item);
    }
  }
}

/** One-shot: told synchronously of the first reported write to any of its dependencies. */
interface WriteWatch {
  deps: readonly Dependency[];
  onWrite(): void;
}

/** What a subscriber receives: the whole value, a patch against the last one, or an error. */
export type Delivery = { kind: "value"; value: unknown } | { kind: "patch"; ops: PatchOp[] } | { kind: "error"; error: unknown };

export interface LiveQuery {
  /**
   * Subscriptions with equal keys share one evaluation and one result per change. The key must
   * name everything besides the data that the result depends on: method, arguments, and who asks.
   */
  key: string;
  /** Runs the query, recording its reads into `reads`. Throws to report an error to the subscriber. */
  evaluate(reads: DependencySet): unknown;
  deliver(delivery: Delivery): void;
}

/** The subscriptions that share one key, and the last result they were all sent. */
interface Group {
  key: string;
  members: Set<LiveQuery>;
  deps: DependencySet;
  lastJson: string | undefined;
  lastValue: unknown;
  lastError: { json: string; error: unknown } | undefined;
}

export interface LiveStats {
  subscriptions: number;
  groups: number;
  evaluations: number;
  deliveries: number;
  skippedUnchanged: number;
}

export class LiveQueries {
  private readonly groups = new Map<string, Group>();
  private readonly groupOf = new Map<LiveQuery, Group>();
  private readonly index = new DependencyIndex<Group>();
  private readonly watches = new DependencyIndex<WriteWatch>();
  private pending = new DependencySet();
  private flushScheduled = false;
  private readonly stats = { evaluations: 0, deliveries: 0, skippedUnchanged: 0 };

  constructor(
    private readonly schedule: (flush: () => void) => void = (flush) => setImmediate(flush),
    private readonly describeError: (err: unknown) => string = (err) => String(err),
  ) {}

  /** Starts a subscription and delivers its current value (or error) at once. */
  add(query: LiveQuery): void {
    const existing = this.groups.get(query.key);
    if (existing) {
      existing.members.add(query);
      this.groupOf.set(query, existing);
      // The group's last result is current: pending writes reach every member at the next flush.
      if (existing.lastError) query.deliver({ kind: "error", error: existing.lastError.error });
      else query.deliver({ kind: "value", value: existing.lastValue });
      this.stats.deliveries++;
      return;
    }
    const group: Group = {
      key: query.key,
      members: new Set([query]),
      deps: new DependencySet(),
      lastJson: undefined,
      lastValue: undefined,
      lastError: undefined,
    };
    this.groups.set(query.key, group);
    this.groupOf.set(query, group);
    this.evaluate(group);
  }

  remove(query: LiveQuery): void {
    const group = this.groupOf.get(query);
    if (!group) return;
    this.groupOf.delete(query);
    group.members.delete(query);
    if (group.members.size > 0) return;
    this.index.remove(group.deps.entries(), group);
    this.groups.delete(group.key);
  }

  /** Reports committed writes (or in-memory state that queries read). Re-evaluation happens on the next tick. */
  changed(writes: Iterable<Dependency>): void {
    const batch = new DependencySet();
    for (const [table, key] of writes) {
      batch.add(table, key);
      this.pending.add(table, key);
    }
    if (batch.byTable.size === 0) return;
    // Watches hear at once, not at the flush: a connection's cached caller must not answer the next call.
    const reached = new Set<WriteWatch>();
    this.watches.collect(batch, reached);
    for (const watch of reached) {
      this.watches.remove(watch.deps, watch);
      watch.onWrite();
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.schedule(() => this.flush());
    }
  }

  /**
   * Calls `onWrite` once, synchronously, when a write to any of `deps` is reported (the first one
   * only). Returns a function that cancels the watch.
   */
  onNextWrite(deps: readonly Dependency[], onWrite: () => void): () => void {
    const watch: WriteWatch = { deps, onWrite };
    this.watches.add(deps, watch);
    return () => this.watches.remove(deps, watch);
  }

  /** Re-evaluates every subscription affected by the writes reported since the last flush. */
  flush(): void {
    this.flushScheduled = false;
    const writes = this.pending;
    this.pending = new DependencySet();
    const affected = new Set<Group>();
    this.index.collect(writes, affected);
    for (const group of affected) {
      // A group emptied during this flush must not be evaluated again.
      if (this.groups.get(group.key) === group) this.evaluate(group);
    }
  }

  getStats(): LiveStats {
    return { ...this.stats, subscriptions: this.groupOf.size, groups: this.groups.size };
  }

  private evaluate(group: Group): void {
    this.stats.evaluations++;
    const reads = new DependencySet();
    const [runner] = group.members;
    let value: unknown;
    let error: unknown;
    let failed = false;
    try {
      value = runner!.evaluate(reads);
    } catch (err) {
      failed = true;
      error = err;
    }
    this.reindex(group, reads);
    if (failed) {
      const json = this.describeError(error);
      if (json === group.lastError?.json) return this.skip();
      group.lastError = { json, error };
      group.lastJson = undefined;
      group.lastValue = undefined;
      return this.send(group, { kind: "error", error });
    }
    const json = JSON.stringify(value ?? null);
    if (json === group.lastJson) return this.skip();
    const first = group.lastJson === undefined;
    const previous = group.lastValue;
    group.lastJson = json;
    group.lastValue = JSON.parse(json); // a private copy: the query's own object may be reused
    group.lastError = undefined;
    if (first) return this.send(group, { kind: "value", value: group.lastValue });
    const ops = diff(previous, group.lastValue);
    // A patch that is bigger than the value helps no one.
    if (JSON.stringify(ops).length >= json.length) this.send(group, { kind: "value", value: group.lastValue });
    else this.send(group, { kind: "patch", ops });
  }

  private send(group: Group, delivery: Delivery): void {
    for (const member of group.members) {
      this.stats.deliveries++;
      member.deliver(delivery);
    }
  }

  private skip(): void {
    this.stats.skippedUnchanged++;
  }

  private reindex(group: Group, reads: DependencySet): void {
    this.index.remove(group.deps.entries(), group);
    group.deps = reads;
    this.index.add(reads.entries(), group);
  }
}
