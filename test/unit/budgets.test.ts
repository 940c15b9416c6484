// Budgets in an in-process hub: who may set what, what a spent budget refuses (before anything is
// written), a scheduled run refused and recorded failed with the reason, and the warning at 80 %.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api } from "../../src/protocol/api/index.js";
import type { FleetError } from "../../src/protocol/errors.js";
import { checkBudgets, periodOf } from "../../src/daemon/model/budgets.js";
import { createTestHub, type TestHub } from "../helpers/hub.js";
import { aliceBobAndAdmin, type HubUser, writeTurn } from "../helpers/turns.js";

let hub: TestHub;
let alice: HubUser;
let bob: HubUser;
let admin: HubUser;
let workerId: string;

beforeEach(() => {
  hub = createTestHub(Date.parse("2026-03-04T12:00:00Z")); // a Wednesday
  ({ alice, bob, admin } = aliceBobAndAdmin(hub));
  workerId = hub.worker("api"); // the admin's in effect: created by nobody, shared with everyone
});
afterEach(() => hub.close());

const spend = (chatId: string, cost: number) => writeTurn(hub, chatId, { tokens: { input: 1, output: 1, reasoning: 0, cacheRead: 0, cacheWrite: 0 }, cost });

const messageCount = () => (hub.db.prepare("SELECT COUNT(*) AS n FROM messages").get() as { n: number }).n;
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as FleetError,
  );

describe("budgets", () => {
  it("lets admins budget anyone, a user budget themselves, and only a worker's controller budget it", async () => {
    await expect(hub.call(alice, api.budgets.set, { all: true, usd: 5, period: "day" })).rejects.toMatchObject({ code: "permission_denied" });
    await expect(hub.call(alice, api.budgets.set, { user: "bob", usd: 5, period: "day" })).rejects.toMatchObject({ code: "permission_denied" });
    await expect(hub.call(alice, api.budgets.set, { worker: "api", usd: 5, period: "day" })).rejects.toMatchObject({ code: "permission_denied" });
    await expect(hub.call(alice, api.budgets.set, { worker: "api", user: "alice", usd: 5, period: "day" })).rejects.toMatchObject({
      code: "invalid_argument",
    });
    expect(await hub.call(alice, api.budgets.set, { user: "alice", usd: 2, period: "week" })).toMatchObject({ scope: "user", targetName: "alice", usd: 2 });
    await hub.call(admin, api.budgets.set, { worker: "api", usd: 5, period: "day" });
    await hub.call(admin, api.budgets.set, { user: "bob", usd: 1, period: "month" });
    // Alice sees what applies to her: her own and the worker's she may use; not bob's.
    expect((await hub.call(alice, api.budgets.list, {})).map((b) => `${b.scope}:${b.targetName}`).sort()).toEqual(["user:alice", "worker:api"]);
    expect(await hub.call(admin, api.budgets.list, {})).toHaveLength(3);
    // Setting again replaces; clearing takes the same right.
    expect((await hub.call(alice, api.budgets.set, { user: "alice", usd: 3, period: "day" })).usd).toBe(3);
    await expect(hub.call(alice, api.budgets.clear, { user: "bob" })).rejects.toMatchObject({ code: "permission_denied" });
    expect(await hub.call(alice, api.budgets.clear, { user: "alice" })).toEqual({ cleared: true });
    expect(await hub.call(alice, api.budgets.clear, { user: "alice" })).toEqual({ cleared: false });
  });

  it("refuses the next turn once spent, naming the budget, the spend and the reset, and writes nothing", async () => {
    const chatId = (await hub.call(alice, api.chat.create, { worker: "api" })).id;
    await hub.call(admin, api.budgets.set, { worker: "api", usd: 1, period: "day" });
    spend(chatId, 0.6);
    // Under the cap the send goes on (and fails only because no agent runs the worker in this hub).
    expect((await refusal(hub.call(alice, api.chat.send, { chat: chatId, text: "more" })))?.message).toMatch(/offline/);
    spend(chatId, 0.5);
    const before = messageCount();
    const err = await refusal(hub.call(alice, api.chat.send, { chat: chatId, text: "one more" }));
    expect(err?.code).toBe("failed_precondition");
    expect(err?.message).toContain("the budget of worker api ($1.00 a day) is spent: $1.10");
    expect(err?.message).toContain("it resets");
    expect(err?.data).toMatchObject({ usd: 1, resetsAt: Date.parse("2026-03-05T00:00:00") });
    expect(messageCount()).toBe(before);
    // Bob's chats on another budget's target are not affected by alice's user budget.
    await hub.call(admin, api.budgets.clear, { worker: "api" });
    await hub.call(admin, api.budgets.set, { user: "alice", usd: 1, period: "month" });
    const bobs = (await hub.call(bob, api.chat.create, { worker: "api" })).id;
    expect((await refusal(hub.call(bob, api.chat.send, { chat: bobs, text: "hi" })))?.message).toMatch(/offline/);
    expect((await refusal(hub.call(alice, api.chat.send, { chat: chatId, text: "hi" })))?.message).toContain("the budget of user alice");
    // The next period starts afresh.
    hub.clock.now = Date.parse("2026-04-01T00:00:01");
    expect((await refusal(hub.call(alice, api.chat.send, { chat: chatId, text: "april" })))?.message).toMatch(/offline/);
  });

  it("records a scheduled run a budget refused as failed, with the reason", async () => {
    const schedule = await hub.call(alice, api.schedules.add, { worker: "api", cron: "* * * * *", prompt: "tick", name: "every" });
    await hub.call(admin, api.budgets.set, { all: true, usd: 0.5, period: "week" });
    spend(schedule.chatId, 0.5);
    hub.clock.now = schedule.nextRunAt! + 100;
    await hub.jobs.runner.tick();
    const [run] = await hub.call(alice, api.schedules.runs, { schedule: "every" });
    expect(run).toMatchObject({ status: "failed", messageId: null });
    expect(run!.reason).toContain("everyone's budget ($0.5000 a week) is spent");
  });

  it("warns at 80 % and computes periods from midnight, Monday and the 1st", async () => {
    const chatId = (await hub.call(alice, api.chat.create, { worker: "api" })).id;
    await hub.call(admin, api.budgets.set, { worker: "api", usd: 1, period: "day" });
    spend(chatId, 0.79);
    expect(hub.dispatcher.runInternalQuery(checkBudgets, { ownerId: alice.user.id, workerId }).warnings).toEqual([]);
    spend(chatId, 0.06);
    expect(hub.dispatcher.runInternalQuery(checkBudgets, { ownerId: alice.user.id, workerId }).warnings).toEqual([
      "the budget of worker api ($1.00 a day) is 85 % spent ($0.8500)",
    ]);
    const now = Date.parse("2026-03-04T12:00:00");
    expect(periodOf("day", now)).toEqual({ start: Date.parse("2026-03-04T00:00:00"), end: Date.parse("2026-03-05T00:00:00") });
    expect(periodOf("week", now)).toEqual({ start: Date.parse("2026-03-02T00:00:00"), end: Date.parse("2026-03-09T00:00:00") });
    expect(periodOf("month", now)).toEqual({ start: Date.parse("2026-03-01T00:00:00"), end: Date.parse("2026-04-01T00:00:00") });
  });
});
