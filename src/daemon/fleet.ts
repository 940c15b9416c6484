// The hub's side of the fleet: one link per machine, commands routed by machine, and agents'
// reports turned into internal mutations so every client sees them live.
import { FleetError } from "../protocol/errors.js";
import type { AgentReport, HubLink, WorkerRuntime } from "./agent/link.js";
import type { SecretKeeper } from "./crypto.js";
import type { Logger } from "./log.js";
import type { InternalRunner } from "./model/context.js";
import { machineNameOf, markOffline, OFFLINE_AFTER_MS } from "./model/machines.js";
import { applyReport, type ReportOutcome } from "./model/reports.js";
import { getWorker, machineOfWorker, wantedWorkers, workerSpec } from "./model/workers.js";

export interface FleetDeps {
  log: Logger;
  secrets: SecretKeeper;
  runMutation: InternalRunner["runMutation"];
  runQuery: InternalRunner["runQuery"];
  /** A machine silent this long is offline, with its workers (default OFFLINE_AFTER_MS). */
  offlineAfterMs?: number;
}

/** How often machines whose heartbeats stopped are marked offline. */
const OFFLINE_SWEEP_MS = 5000;

export class Fleet {
  private readonly links = new Map<string, HubLink>();
  private sweep: NodeJS.Timeout | undefined;
  /** Other modules (chat) listen to workers' OpenCode events and run states here. */
  private readonly eventListeners = new Set<(workerId: string, report: Extract<AgentReport, { type: "worker.event" }>) => void>();
  private readonly runtimeListeners = new Set<(workerId: string, runtime: WorkerRuntime) => void>();
  private readonly linkedListeners = new Set<(link: HubLink, workerIds: string[]) => void>();

  constructor(private readonly deps: FleetDeps) {}

  attach(link: HubLink): void {
    this.links.set(link.machineId, link);
  }

  detach(machineId: string, reason: string): void {
    this.links.delete(machineId);
    this.wentOffline(this.deps.runMutation(markOffline, { machineId, reason }), reason);
  }

  /** Workers taken offline with their machine: their turns are given up like those of a worker that stopped. */
  private wentOffline(workerIds: string[], reason: string): void {
    const runtime: WorkerRuntime = { runState: "offline", reason, pid: null, startedAt: null, restartCount: 0, opencodeVersion: null };
    for (const workerId of workerIds) for (const listener of this.runtimeListeners) listener(workerId, runtime);
  }

  /**
   * Forgets a link that closed, if it is still the machine's link. The machine stays online until
   * the offline sweep finds its heartbeats stopped: a link that comes back in time loses nothing.
   */
  unlink(link: HubLink): void {
    if (this.links.get(link.machineId) === link) this.links.delete(link.machineId);
  }

  /** The link to a machine's agent; `unavailable` when the machine is not connected. */
  linkFor(machineId: string): HubLink {
    const link = this.links.get(machineId);
    if (!link) {
      // Nothing is queued for a machine that is not connected: the command fails now, and nothing of it ran there.
      const name = this.deps.runQuery(machineNameOf, { machineId });
      throw new FleetError(
        "unavailable",
        `machine '${name ?? machineId}' is offline (not connected to the hub), so nothing was sent to it; try again once it is back (ocfleet machine list shows it online)`,
        { machineId },
      );
    }
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

  /**
   * Handles what an agent reports: applied once (by `seq`, for links that number their reports) and
   * only when it is about the reporting machine's own workers. Never throws: a bad report is logged.
   * Reports from this daemon's own agent (in process, no `seq`) are trusted and events skip the store.
   */
  receive(machineId: string, report: AgentReport, seq: number | null = null): ReportOutcome | "failed" {
    try {
      const outcome = seq === null && report.type === "worker.event" ? "applied" : this.deps.runMutation(applyReport, { machineId, seq, report });
      if (outcome === "refused")
        this.deps.log.warnThrottled(`report:${machineId}`, "refused a report about an unknown worker", { machineId, type: report.type });
      if (outcome === "forged")
        this.deps.log.warnThrottled(`report:${machineId}`, "refused a report about another machine's worker", { machineId, type: report.type });
      if (outcome !== "applied") return outcome;
      if (report.type === "worker.runtime") for (const listener of this.runtimeListeners) listener(report.workerId, report.runtime);
      if (report.type === "worker.event") for (const listener of this.eventListeners) listener(report.workerId, report);
      return outcome;
    } catch (err) {
      this.deps.log.error("could not record an agent report", { machineId, type: report.type, error: err });
      return "failed";
    }
  }

  /**
   * Starts the workers of a machine that should be running (at daemon start, or when a machine
   * links), then tells listeners the machine is back with the workers that already ran there (the
   * chat runtime reconciles replies it gave up on while the machine was silent).
   */
  async resume(machineId: string): Promise<void> {
    const link = this.linkFor(machineId);
    const running: string[] = [];
    for (const row of this.deps.runQuery(wantedWorkers, { machineId })) {
      try {
        await link.command("worker.start", { worker: workerSpec(row, this.deps.secrets) });
      } catch (err) {
        if (err instanceof FleetError && err.code === "failed_precondition") running.push(row.id);
        else this.deps.log.warn("could not resume a worker", { worker: row.id, error: err instanceof Error ? err.message : String(err) });
      }
    }
    for (const listener of this.linkedListeners) listener(link, running);
  }

  /** `workerIds`: the machine's workers that were still running there when it linked again. */
  onMachineLinked(listener: (link: HubLink, workerIds: string[]) => void): () => void {
    this.linkedListeners.add(listener);
    return () => this.linkedListeners.delete(listener);
  }

  startOfflineSweep(): void {
    const silentForMs = this.deps.offlineAfterMs ?? OFFLINE_AFTER_MS;
    this.sweep = setInterval(
      () => {
        try {
          const reason = "machine offline: no heartbeat";
          this.wentOffline(this.deps.runMutation(markOffline, { reason, silentForMs }), reason);
        } catch (err) {
          this.deps.log.error("offline sweep failed", { error: err });
        }
      },
      Math.min(OFFLINE_SWEEP_MS, Math.max(100, silentForMs / 3)),
    );
    this.sweep.unref();
  }

  stop(): void {
    clearInterval(this.sweep);
  }
}
