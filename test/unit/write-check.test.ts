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
    hub.db
      .prepare(
        "INSERT INTO worker_models (worker_id, provider_id, provider_name, model_id, name, tool_call, is_default) VALUES (?, 'fake', 'Fake', 'm', 'M', 1, 1)",
      )
      .run(workerId);
    const removeWorker = internalMutation((ctx) => {
      ctx.db.prepare("DELETE FROM workers WHERE id = ?").run(workerId);
      ctx.writes(TABLES.workers, workerId);
    });
    expect(() => hub.dispatcher.runInternalMutation(removeWorker, {})).toThrow(/worker_models/);
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
