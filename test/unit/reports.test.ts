// Agents' reports on the hub: applied once per sequence number, and only about the reporting
// machine's own workers (a machine cannot change another machine's worker by naming its id).
import { afterEach, describe, expect, it } from "vitest";
import type { WorkerRuntime } from "../../src/daemon/agent/link.js";
import { applyReport } from "../../src/daemon/model/reports.js";
import { recordModels } from "../../src/daemon/model/workerModels.js";
import { recordRuntime } from "../../src/daemon/model/workers.js";
import { createTestHub, type TestHub } from "../helpers/hub.js";

let hub: TestHub;
afterEach(() => hub?.close());

const active: WorkerRuntime = { runState: "active", reason: null, pid: 4242, startedAt: 1, restartCount: 0, opencodeVersion: "9.9.9" };

function setup() {
  hub = createTestHub(Date.UTC(2026, 0, 5, 9));
  const local = (hub.db.prepare("SELECT id FROM machines WHERE is_local = 1").get() as { id: string }).id;
  hub.db
    .prepare(
      "INSERT INTO machines (id, name, hostname, is_local, approval, online, created_at, updated_at) VALUES ('mch_other', 'other', 'other', 0, 'approved', 0, 0, 0)",
    )
    .run();
  const worker = hub.worker("api");
  const state = () => hub.db.prepare("SELECT run_state, pid FROM workers WHERE id = ?").get(worker) as { run_state: string; pid: number | null };
  return { local, worker, state };
}

describe("reports from agents", () => {
  it("a runtime report about another machine's worker changes nothing", () => {
    const { local, worker, state } = setup();
    hub.dispatcher.runInternalMutation(recordRuntime, { machineId: "mch_other", workerId: worker, runtime: active });
    expect(state()).toEqual({ run_state: "offline", pid: null });
    hub.dispatcher.runInternalMutation(recordRuntime, { machineId: local, workerId: worker, runtime: active });
    expect(state()).toEqual({ run_state: "active", pid: 4242 });
  });

  it("models reported for another machine's worker are not stored", () => {
    const { worker } = setup();
    const model = { providerId: "p", providerName: "P", modelId: "m", name: "M", contextLimit: null, outputLimit: null, toolCall: true, isDefault: true };
    hub.dispatcher.runInternalMutation(recordModels, { machineId: "mch_other", workerId: worker, models: [model] });
    expect(hub.db.prepare("SELECT COUNT(*) AS n FROM worker_models").get()).toEqual({ n: 0 });
  });

  it("each sequence number is applied once; a foreign worker's report is refused as forged and still counted as seen", () => {
    const { worker, state } = setup();
    const runtime = (at: number, workerId = worker) => ({ type: "worker.runtime" as const, workerId, runtime: active, at });
    expect(hub.dispatcher.runInternalMutation(applyReport, { machineId: "mch_other", seq: 1, report: runtime(1) })).toBe("forged");
    expect(state().run_state).toBe("offline");
    // A worker the hub does not know (removed meanwhile) is no forgery: refused, the link stays.
    expect(hub.dispatcher.runInternalMutation(applyReport, { machineId: "mch_other", seq: 1, report: runtime(1, "wrk_gone") })).toBe("refused");
    const heartbeat = (at: number) => ({
      type: "machine.heartbeat" as const,
      facts: { hostname: "other", platform: "linux", release: "6", arch: "x64", cpus: 2, totalMemoryBytes: 1, agentVersion: "0" },
      at,
    });
    expect(hub.dispatcher.runInternalMutation(applyReport, { machineId: "mch_other", seq: 1, report: heartbeat(1) })).toBe("duplicate");
    expect(hub.dispatcher.runInternalMutation(applyReport, { machineId: "mch_other", seq: 2, report: heartbeat(2) })).toBe("applied");
    expect(hub.dispatcher.runInternalMutation(applyReport, { machineId: "mch_other", seq: 2, report: heartbeat(2) })).toBe("duplicate");
    expect(hub.db.prepare("SELECT online, last_report_seq FROM machines WHERE id = 'mch_other'").get()).toEqual({ online: 1, last_report_seq: 2 });
  });
});
