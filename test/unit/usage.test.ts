// Usage in an in-process hub: replies finished through the runtime's write path, with the tokens
// and cost OpenCode would report, added up by each grouping, for the caller's chats only.
import { afterEach, beforeEach, expect, it } from "vitest";
import { api, type TokenCounts } from "../../src/protocol/api/index.js";
import { createTestHub, type TestHub } from "../helpers/hub.js";
import { aliceBobAndAdmin, type HubUser, writeTurn } from "../helpers/turns.js";

const HOUR = 3_600_000;
let hub: TestHub;
let alice: HubUser;
let bob: HubUser;
let admin: HubUser;

beforeEach(() => {
  hub = createTestHub(Date.parse("2026-03-01T22:30:00Z"));
  ({ alice, bob, admin } = aliceBobAndAdmin(hub));
  hub.worker("api");
  hub.worker("web");
});
afterEach(() => hub.close());

const reply = (chatId: string, model: string, tokens: TokenCounts | null, cost: number | null) => writeTurn(hub, chatId, { model, tokens, cost });

const t = (input: number, output: number, reasoning = 0, cacheRead = 0, cacheWrite = 0): TokenCounts => ({ input, output, reasoning, cacheRead, cacheWrite });

it("adds up tokens and cost by chat, worker, model, user and day, for the caller's chats only", async () => {
  const a1 = (await hub.call(alice, api.chat.create, { worker: "api", title: "a1" })).id;
  const a2 = (await hub.call(alice, api.chat.create, { worker: "web", title: "a2" })).id;
  const b1 = (await hub.call(bob, api.chat.create, { worker: "api", title: "b1" })).id;
  reply(a1, "p/big", t(100, 50, 10, 5, 1), 0.5);
  reply(a1, "p/small", t(10, 5), 0.01);
  hub.clock.now += 2 * HOUR; // past midnight UTC: another day
  reply(a2, "p/big", t(200, 100), 1);
  reply(a2, "p/big", null, null); // an error before any figures: counted, adds nothing
  reply(b1, "p/big", t(1000, 1000), 9);

  const byChat = await hub.call(alice, api.usage.report, { by: "chat" });
  expect(byChat.rows.map((r) => [r.label, r.replies, r.tokens.input, r.cost])).toEqual([
    ["a2", 2, 200, 1],
    ["a1", 2, 110, 0.51],
  ]);
  expect(byChat.total).toEqual({ replies: 4, tokens: t(310, 155, 10, 5, 1), cost: 1.51 });
  expect((await hub.call(alice, api.usage.report, { by: "worker" })).rows.map((r) => [r.label, r.tokens.output])).toEqual([
    ["web", 100],
    ["api", 55],
  ]);
  expect((await hub.call(alice, api.usage.report, { by: "model" })).rows.map((r) => [r.label, r.replies])).toEqual([
    ["p/big", 3],
    ["p/small", 1],
  ]);
  const days = await hub.call(alice, api.usage.report, { by: "day" });
  expect(days.rows.map((r) => [r.key, r.replies])).toEqual([
    ["2026-03-02", 2],
    ["2026-03-01", 2],
  ]);
  // In the caller's time zone: at UTC+2 every reply was on the 2nd.
  expect((await hub.call(alice, api.usage.report, { by: "day", utcOffsetMinutes: 120 })).rows.map((r) => [r.key, r.replies])).toEqual([["2026-03-02", 4]]);
  expect((await hub.call(alice, api.usage.report, { by: "day", since: "1h" })).total.replies).toBe(2);

  // Bob sees his own; an admin sees everyone's only with all.
  expect((await hub.call(bob, api.usage.report, {})).total.cost).toBe(9);
  expect((await hub.call(bob, api.usage.report, { all: true })).total.cost).toBe(9);
  expect((await hub.call(admin, api.usage.report, {})).total.replies).toBe(0);
  expect((await hub.call(admin, api.usage.report, { by: "user", all: true })).rows.map((r) => [r.label, r.cost])).toEqual([
    ["bob", 9],
    ["alice", 1.51],
  ]);
  expect((await hub.call(admin, api.usage.report, { by: "machine", all: true })).rows).toHaveLength(1);

  // chat list shows each chat's cost.
  const list = await hub.call(alice, api.chat.list, {});
  expect(Object.fromEntries(list.map((c) => [c.title, c.cost]))).toEqual({ a1: 0.51, a2: 1 });
});
