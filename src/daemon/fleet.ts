// The hub's side of the fleet: one link per machine, commands routed by machine, and agents'
// reports turned into internal mutations so every client sees them live.
import { FleetError } from "../protocol/errors.js";
import type { AgentReport, HubLink, WorkerRuntime } from "./agent/link.js";
import type { SecretKeeper } from "./crypto.js";
import type { Logger } from "./log.js";
import type { InternalRunner } from "./model/context.js";
import { markOffline, recordHeartbeat } from "./model/machines.js";
import { recordModels } from "./model/workerModels.js";
import { getWorker, machineOfWorker, recordRuntime, wantedWorkers, workerSpec } from "./model/workers.js";

export interface FleetDeps {
  log: Logger;
  secrets: SecretKeeper;
  runMutation: InternalRunner["runMutation"];
  runQuery: InternalRunner["runQuery"];
}

/** How often machines whose heartbeats stopped are marked offline. */
const OFFLINE_SWEEP_MS = 5000;

export class Fleet {
  private readonly links = new Map<string, HubLink>();
  private sweep: NodeJS.Timeout | undefined;
  /** Other modules (chat) listen to workers' OpenCode events and run states here. */
  private readonly eventListeners = new Set<(workerId: string, report: Extract<AgentReport, { type: "worker.event" }>) => void>();
  private readonly runtimeListeners = new Set<(workerId: string, runtime: WorkerRuntime) => void>();

  constructor(private readonly deps: FleetDeps) {}

  attach(link: HubLink): void {
    this.links.set(link.machineId, link);
  }

  detach(machineId: string, reason: string): void {
    this.links.delete(machineId);
    this.deps.runMutation(markOffline, { machineId, reason });
  }

  /** The link to a machine's agent; `unavailable` when the machine is not connected. */
  linkFor(machineId: string): HubLink {
    const link = this.links.get(machineId);
    if (!link) throw new FleetError("unavailable", "that machine is offline; its workers cannot be reached now", { machineId });
    return link;
  }

  /** The link to the machine a worker runs on. */
  linkForWorker(workerId: string): HubLink {
    return this.linkFor(this.deps.runQuery(machineOfWorker, { workerId }));
  }

  /**
   * Resolves once the worker can take requests (idle or active). A worker that is starting, or is
   * wanted running but not started yet (the daemon just came back), is waited for, up to
   * `timeoutMs`; one that failed (error) or was stopped on purpose, or whose machine is not
   * connected, is refused at once, saying why.
   */
  async waitForWorker(workerId: string, timeoutMs: number): Promise<void> {
    const verdict = (state: { name: string; runState: string; reason: string | null; desired: string }): "ready" | "wait" => {
      if (state.runState === "idle" || state.runState === "active") return "ready";
      if (state.runState === "error") {
        throw new FleetError("unavailable", `worker ${state.name} failed to start: ${(state.reason ?? "unknown reason").split("\n")[0]}`);
      }
      if (state.desired === "stopped")
        throw new FleetError("failed_precondition", `worker ${state.name} is stopped; start it with: ocfleet worker start ${state.name}`);
      return "wait";
    };
    this.linkForWorker(workerId); // a machine that is not connected is not waited for
    const row = this.deps.runQuery(getWorker, { worker: workerId });
    const name = row.name;
    if (verdict({ name, runState: row.run_state, reason: row.state_reason, desired: row.desired_state }) === "ready") return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new FleetError("unavailable", `worker ${name} did not become ready within ${Math.round(timeoutMs / 1000)} s; see: ocfleet worker logs ${name}`));
      }, timeoutMs);
      const unsubscribe = this.onWorkerRuntime((id, runtime) => {
        if (id !== workerId) return;
        try {
          if (verdict({ name, runState: runtime.runState, reason: runtime.reason, desired: "running" }) === "wait") return;
          resolve();
        } catch (err) {
          reject(err);
        }
        clearTimeout(timer);
        unsubscribe();
      });
    });
  }

  onWorkerRuntime(listener: (workerId: string, runtime: WorkerRuntime) => void): () => void {
    this.runtimeListeners.add(listener);
    return () => this.runtimeListeners.delete(listener);
  }

  onWorkerEvent(listener: (workerId: string, report: Extract<AgentReport, { type: "worker.event" }>) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Handles what an agent reports. Never throws: a bad report is logged, not fatal. */
  receive(machineId: string, report: AgentReport): void {
    try {
      switch (report.type) {
        case "machine.heartbeat":
          this.deps.runMutation(recordHeartbeat, { machineId, facts: report.facts, at: report.at });
          return;
        case "worker.runtime":
          this.deps.runMutation(recordRuntime, { workerId: report.workerId, runtime: report.runtime });
          for (const listener of this.runtimeListeners) listener(report.workerId, report.runtime);
          return;
        case "worker.models":
          this.deps.runMutation(recordModels, { workerId: report.workerId, models: report.models });
          return;
        case "worker.event":
          for (const listener of this.eventListeners) listener(report.workerId, report);
          return;
      }
    } catch (err) {
      this.deps.log.error("could not record an agent report", { machineId, type: report.type, error: err });
    }
  }

  /** Starts the workers of a machine that should be running (at daemon start, or when a machine links). */
  async resume(machineId: string): Promise<void> {
    const link = this.linkFor(machineId);
    for (const row of this.deps.runQuery(wantedWorkers, { machineId })) {
      try {
        await link.command("worker.start", { worker: workerSpec(row, this.deps.secrets) });
      } catch (err) {
        this.deps.log.warn("could not resume a worker", { worker: row.id, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  startOfflineSweep(): void {
    this.sweep = setInterval(() => {
      try {
        this.deps.runMutation(markOffline, { reason: "machine offline: no heartbeat" });
      } catch (err) {
        this.deps.log.error("offline sweep failed", { error: err });
      }
    }, OFFLINE_SWEEP_MS);
    this.sweep.unref();
  }

  stop(): void {
    clearInterval(this.sweep);
  }
}
