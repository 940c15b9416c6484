// The missing-write check: a mutation that changes rows without declaring a write (which would
// leave every live view of them stale, silently) fails and is rolled back. It is on in every test
// (vitest.config.ts sets OCFLEET_CHECK_WRITES=1), here through the real dispatcher and database.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { internalMutation } from "../../src/daemon/model/context.js";
import { TABLES } from "../../src/daemon/model/tables.js";
import { MissingWriteError } from "../../src/daemon/model/write-check.js";
import { createTestHub, type TestHub } from "../helpers/hub.js";

let hub: TestHub;
let workerId: string;

beforeEach(() => {
  hub = createTestHub(Date.parse("2026-01-05T07:00:00Z"));
  workerId = hub.worker("api");
});
afterEach(() => hub.close());

const stateOf = () => (hub.db.prepare("SELECT state_reason FROM workers WHERE id = ?").get(workerId) as { state_reason: string | null }).state_reason;

describe("the missing-write check", () => {
  it("fails a mutation that changed rows without declaring a write, and rolls it back", () => {
    const silent = internalMutation((ctx, args: { id: string }) => {
      ctx.db.prepare("UPDATE workers SET state_reason = 'changed' WHERE id = ?").run(args.id);
    });
    expect(() => hub.dispatcher.runInternalMutation(silent, { id: workerId })).toThrow(MissingWriteError);
    expect(() => hub.dispatcher.runInternalMutation(silent, { id: workerId })).toThrow(/workers.*'workers'/);
    expect(stateOf()).toBeNull();
  });

  it("names a table changed by ON DELETE CASCADE that the mutation did not declare", () => {
    const owner = hub.user("olga");
    hub.db
      .prepare(
        "INSERT INTO chats (id, worker_id, owner_id, title, title_source, state, last_activity_at, created_at, updated_at) VALUES ('cht_0000000000000001', ?, ?, 't', 'user', 'active', 0, 0, 0)",
      )
      .run(workerId, owner.user.id);
    const removeWorker = internalMutation((ctx) => {
      ctx.db.prepare("DELETE FROM workers WHERE id = ?").run(workerId);
      ctx.writes(TABLES.workers, workerId);
    });
    expect(() => hub.dispatcher.runInternalMutation(removeWorker, {})).toThrow(/chats/);
  });

  it("lets a mutation through that declared its writes, or declared them unseen", () => {
    const declared = internalMutation((ctx, args: { id: string }) => {
      ctx.db.prepare("UPDATE workers SET state_reason = 'changed' WHERE id = ?").run(args.id);
      ctx.writes(TABLES.workers, args.id);
    });
    hub.dispatcher.runInternalMutation(declared, { id: workerId });
    expect(stateOf()).toBe("changed");

    const unseen = internalMutation((ctx, args: { id: string }) => {
      ctx.db.prepare("UPDATE workers SET state_reason = 'unseen' WHERE id = ?").run(args.id);
      ctx.writesUnseen(TABLES.workers);
    });
    hub.dispatcher.runInternalMutation(unseen, { id: workerId });
    expect(stateOf()).toBe("unseen");
  });
});
