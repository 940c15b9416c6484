import { describe, expect, it } from "vitest";
import { type DependencySet, LiveQueries, type Delivery, type LiveQuery } from "../../src/daemon/live.js";
import { applyPatch } from "../../src/protocol/patch.js";

/** A LiveQueries whose flushes run only when the test says so. */
function manualLive() {
  const queued: Array<() => void> = [];
  const live = new LiveQueries((flush) => queued.push(flush));
  return { live, tick: () => queued.splice(0).forEach((flush) => flush()) };
}

let nextKey = 0;

/** A fake "table" the queries read from, so the tests control what changes. */
function subscriber(evaluate: (reads: DependencySet) => unknown) {
  const deliveries: Delivery[] = [];
  let evaluations = 0;
  let current: unknown;
  const query: LiveQuery = {
    key: `q${nextKey++}`,
    evaluate: (reads) => {
      evaluations++;
      return evaluate(reads);
    },
    deliver: (delivery) => {
      deliveries.push(delivery);
      if (delivery.kind === "value") current = delivery.value;
      if (delivery.kind === "patch") current = applyPatch(current, delivery.ops);
    },
  };
  return { query, deliveries, evaluations: () => evaluations, current: () => current };
}

describe("live queries", () => {
  it("delivers the first value at once", () => {
    const { live } = manualLive();
    const sub = subscriber(() => ({ n: 1 }));
    live.add(sub.query);
    expect(sub.deliveries).toEqual([{ kind: "value", value: { n: 1 } }]);
  });

  it("re-evaluates a query when a key it read is written, and not for other keys", () => {
    const { live, tick } = manualLive();
    const rows: Record<string, number> = { a: 1, b: 1 };
    const sub = subscriber((reads) => {
      reads.add("things", "a");
      return rows.a;
    });
    live.add(sub.query);
    rows.b = 2;
    live.changed([["things", "b"]]);
    live.changed([["other", "a"]]);
    tick();
    expect(sub.evaluations()).toBe(1);
    rows.a = 5;
    live.changed([["things", "a"]]);
    tick();
    expect(sub.evaluations()).toBe(2);
    expect(sub.current()).toBe(5);
  });

  it("treats a whole-table read as depending on every key, and a whole-table write as touching every reader", () => {
    const { live, tick } = manualLive();
    let version = 0;
    const tableReader = subscriber((reads) => {
      reads.add("things");
      return version;
    });
    const keyReader = subscriber((reads) => {
      reads.add("things", "k");
      return version;
    });
    live.add(tableReader.query);
    live.add(keyReader.query);
    version = 1;
    live.changed([["things", "some-other-key"]]);
    tick();
    expect(tableReader.evaluations()).toBe(2);
    expect(keyReader.evaluations()).toBe(1);
    version = 2;
    live.changed([["things", "*"]]);
    tick();
    expect(tableReader.evaluations()).toBe(3);
    expect(keyReader.evaluations()).toBe(2);
  });

  it("coalesces many writes in one tick into one evaluation", () => {
    const { live, tick } = manualLive();
    let n = 0;
    const sub = subscriber((reads) => {
      reads.add("counter", "c");
      return n;
    });
    live.add(sub.query);
    for (let i = 0; i < 100; i++) {
      n++;
      live.changed([["counter", "c"]]);
    }
    tick();
    expect(sub.evaluations()).toBe(2);
    expect(sub.deliveries).toHaveLength(2);
    expect(sub.current()).toBe(100);
  });

  it("does not send a result that did not change", () => {
    const { live, tick } = manualLive();
    const sub = subscriber((reads) => {
      reads.add("t", "k");
      return { same: true };
    });
    live.add(sub.query);
    live.changed([["t", "k"]]);
    tick();
    expect(sub.evaluations()).toBe(2);
    expect(sub.deliveries).toHaveLength(1);
    expect(live.getStats().skippedUnchanged).toBe(1);
  });

  it("sends a growing string as an append, not a resend", () => {
    const { live, tick } = manualLive();
    const base = "Hello ".repeat(20);
    let text = base;
    const sub = subscriber((reads) => {
      reads.add("messages", "m1");
      return { id: "m1", text, parts: [{ kind: "text", text }] };
    });
    live.add(sub.query);
    text = base + ", world";
    live.changed([["messages", "m1"]]);
    tick();
    expect(sub.deliveries[1]).toEqual({
      kind: "patch",
      ops: [
        { op: "append", path: ["text"], text: ", world" },
        { op: "append", path: ["parts", 0, "text"], text: ", world" },
      ],
    });
    expect(sub.current()).toEqual({ id: "m1", text, parts: [{ kind: "text", text }] });
  });

  it("follows a query's reads as they change between evaluations", () => {
    const { live, tick } = manualLive();
    let pointer = "a";
    const sub = subscriber((reads) => {
      reads.add("ptr", "p");
      reads.add("rows", pointer);
      return pointer;
    });
    live.add(sub.query);
    pointer = "b";
    live.changed([["ptr", "p"]]);
    tick();
    expect(sub.current()).toBe("b");
    live.changed([["rows", "a"]]); // no longer read
    tick();
    expect(sub.evaluations()).toBe(2);
    live.changed([["rows", "b"]]);
    tick();
    expect(sub.evaluations()).toBe(3);
  });

  it("reports an error once, then recovers with a full value", () => {
    const { live, tick } = manualLive();
    let broken = false;
    const sub = subscriber((reads) => {
      reads.add("t", "k");
      if (broken) throw new Error("gone");
      return 1;
    });
    live.add(sub.query);
    broken = true;
    live.changed([["t", "k"]]);
    tick();
    live.changed([["t", "k"]]);
    tick();
    expect(sub.deliveries.map((d) => d.kind)).toEqual(["value", "error"]);
    broken = false;
    live.changed([["t", "k"]]);
    tick();
    expect(sub.deliveries.at(-1)).toEqual({ kind: "value", value: 1 });
  });

  it("never evaluates a removed subscription again", () => {
    const { live, tick } = manualLive();
    const sub = subscriber((reads) => {
      reads.add("t", "k");
      return Math.random();
    });
    live.add(sub.query);
    live.remove(sub.query);
    live.changed([["t", "k"]]);
    tick();
    expect(sub.evaluations()).toBe(1);
    expect(live.getStats().subscriptions).toBe(0);
  });

  it("evaluates only the affected subscriptions among many", () => {
    const { live, tick } = manualLive();
    const subs = Array.from({ length: 50 }, (_, i) =>
      subscriber((reads) => {
        reads.add("lists", `list-${i}`);
        return i;
      }),
    );
    subs.forEach((s) => live.add(s.query));
    live.changed([["lists", "list-7"]]);
    tick();
    expect(subs.filter((s) => s.evaluations() === 2).map((s) => subs.indexOf(s))).toEqual([7]);
  });

  it("shares one evaluation among subscriptions with the same key, and catches up late joiners", () => {
    const { live, tick } = manualLive();
    let n = 0;
    let evaluations = 0;
    const received: unknown[][] = [[], [], []];
    const make = (i: number): LiveQuery => ({
      key: "same",
      evaluate: (reads) => {
        evaluations++;
        reads.add("t", "k");
        return { n };
      },
      deliver: (d) => received[i]!.push(d.kind === "value" ? d.value : d.kind),
    });
    const members = [make(0), make(1)];
    members.forEach((m) => live.add(m));
    n = 1;
    live.changed([["t", "k"]]);
    tick();
    expect(evaluations).toBe(2);
    live.add(make(2)); // joins late: gets the current value without a new evaluation
    expect(evaluations).toBe(2);
    expect(received[2]).toEqual([{ n: 1 }]);
    live.remove(members[0]!);
    n = 2;
    live.changed([["t", "k"]]);
    tick();
    expect(evaluations).toBe(3);
    expect(received[0]).toHaveLength(2);
    expect(received[1]).toHaveLength(3);
    expect(received[2]).toHaveLength(2);
    expect(live.getStats()).toMatchObject({ subscriptions: 2, groups: 1 });
  });

  it("tells a write watch of its first matching write at once, before any flush, and only once", () => {
    const { live, tick } = manualLive();
    const told: string[] = [];
    live.onNextWrite(
      [
        ["sessions", "s1"],
        ["users", "u1"],
      ],
      () => told.push("caller of s1"),
    );
    live.onNextWrite([["users", "u2"]], () => told.push("caller of u2"));
    live.changed([
      ["sessions", "s2"],
      ["users", "user:u1"],
    ]);
    expect(told).toEqual([]);
    live.changed([["users", "u1"]]);
    expect(told).toEqual(["caller of s1"]); // synchronously: no tick yet
    live.changed([["sessions", "s1"]]);
    tick();
    expect(told).toEqual(["caller of s1"]); // a watch is used up by its first write
    live.changed([["users", "*"]]); // a write to every row reaches every watch of the table
    expect(told).toEqual(["caller of s1", "caller of u2"]);
  });

  it("forgets a cancelled write watch", () => {
    const { live } = manualLive();
    let told = 0;
    const cancel = live.onNextWrite([["users", "u1"]], () => told++);
    cancel();
    live.changed([["users", "u1"]]);
    live.changed([["users", "*"]]);
    expect(told).toBe(0);
  });
});
