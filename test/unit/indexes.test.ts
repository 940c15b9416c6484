// Every query the new modules, the runner and the cleanup jobs run is answered from an index:
// the SQL actually executed in a scenario is recorded and each statement's query plan is checked.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../../src/protocol/api/index.js";
import { createTestHub, type TestHub } from "../helpers/hub.js";

const TABLES = [
  "attendance_sheets",
  "attendance_entries",
  "discussions",
  "discussion_messages",
  "discussion_conclusions",
  "presentations",
  "presentation_slides",
  "schedules",
  "schedule_runs",
  "job_runs",
  "sessions",
  "login_codes",
  "login_requests",
  "stream_chunks",
];

let hub: TestHub;
const executed = new Map<string, unknown[]>();

beforeAll(async () => {
  // Keeping few runs per schedule makes the cleanup of old runs do its work (and run its queries).
  hub = createTestHub(Date.parse("2026-01-05T07:00:00Z"), { cleanup: { scheduleRunsKept: 3 } });
  const prepare = hub.db.prepare.bind(hub.db);
  hub.db.prepare = ((sql: string) => {
    const statement = prepare(sql);
    const record = (args: unknown[]) => executed.set(sql, args);
    return new Proxy(statement, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function" || !["get", "all", "run", "iterate"].includes(String(property))) return value;
        return (...args: unknown[]) => {
          record(args);
          return value.apply(target, args);
        };
      },
    });
  }) as typeof hub.db.prepare;

  const owner = hub.user("olga", "system_admin");
  const other = hub.user("pete");
  hub.worker("api");
  await hub.call(owner, api.attendance.mark, { key: "standup" });
  await hub.call(other, api.attendance.mark, { key: "standup", status: "remote" });
  await hub.call(owner, api.attendance.list, {});
  await hub.call(owner, api.attendance.get, { key: "standup" });
  await hub.call(owner, api.attendance.remove, { key: "standup", user: "pete" });
  await hub.call(owner, api.discussions.open, { key: "db" });
  await hub.call(other, api.discussions.post, { key: "db", text: "sqlite" });
  await hub.call(owner, api.discussions.conclude, { key: "db", conclusion: "sqlite", tags: ["decision"] });
  await hub.call(owner, api.discussions.reopen, { key: "db" });
  await hub.call(owner, api.discussions.list, {});
  await hub.call(owner, api.discussions.get, { key: "db" });
  const deck = await hub.call(owner, api.presentations.start, { markdown: "# a\n---\n# b" });
  await hub.call(owner, api.presentations.next, { at: Date.now() });
  await hub.call(owner, api.presentations.goto, { id: deck.id, slide: 1, at: Date.now() + 1 });
  await hub.call(owner, api.presentations.list, {});
  await hub.call(owner, api.presentations.list, { all: true });
  await hub.call(owner, api.presentations.get, { id: deck.id });
  await hub.call(owner, api.schedules.add, { worker: "api", cron: "* * * * *", timezone: "UTC", prompt: "hi", name: "s" });
  await hub.call(other, api.schedules.list, {});
  await hub.call(owner, api.schedules.list, { all: true });
  hub.clock.now = Date.parse("2026-01-05T09:00:10Z");
  await hub.jobs.runner.tick();
  await hub.call(owner, api.schedules.runs, { schedule: "s" });
  await hub.call(owner, api.schedules.pause, { schedule: "s" });
  await hub.jobs.runCleanup();
  await hub.call(owner, api.admin.jobs, {});
});
afterAll(() => hub.close());

describe("indexes", () => {
  it("every statement on the modules' tables uses an index to filter and to order", () => {
    const problems: string[] = [];
    let checked = 0;
    for (const [sql, args] of [...executed]) {
      if (!/^\s*(SELECT|UPDATE|DELETE|WITH)/i.test(sql) || !TABLES.some((t) => new RegExp(`\\b${t}\\b`).test(sql))) continue;
      checked++;
      const plan = hub.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(args as never[])) as { detail: string }[];
      for (const { detail } of plan) {
        const fullScan = /^SCAN (\w+)$/.exec(detail);
        if (process.env.SHOW_PLANS) console.log(detail, "|", sql.replace(/\s+/g, " ").slice(0, 120));
        if ((fullScan && TABLES.includes(fullScan[1]!)) || /TEMP B-TREE/.test(detail)) problems.push(`${detail}\n    in: ${sql.replace(/\s+/g, " ")}`);
      }
    }
    expect(checked).toBeGreaterThan(30);
    expect(problems).toEqual([]);
  });
});
