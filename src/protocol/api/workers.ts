// Workers: an OpenCode server bound to one directory on one machine.
import type { MachineId, WorkerId } from "../ids.js";
import { action, defineModule, query } from "./define.js";
import type { Approval } from "./machines.js";

export type WorkerRunState = "starting" | "idle" | "active" | "offline" | "error";

export interface WorkerView {
  id: WorkerId;
  name: string;
  machineId: MachineId;
  machineName: string;
  directory: string;
  approval: Approval;
  /** What the user asked for; the run state is what is. */
  desiredState: "running" | "stopped";
  runState: WorkerRunState;
  /** Why it is in this state (an error, a restart in progress…), or null. */
  reason: string | null;
  stateChangedAt: number;
  pid: number | null;
  /** When the current OpenCode process became ready; uptime is now minus this. */
  startedAt: number | null;
  restartCount: number;
  opencodeVersion: string | null;
  /** Names of the variables in the worker's environment overlay (never their values). */
  envKeys: string[];
  modelsRefreshedAt: number | null;
  createdBy: string | null;
  createdAt: number;
}

/** A worker by id (wrk_…) or by name. */
type WorkerRef = { worker: string };

export interface AddWorkerArgs {
  /** An absolute path on the worker's machine. */
  directory: string;
  name?: string;
  /** Machine id or name; this daemon's machine by default. */
  machine?: string;
  /** Added to the user's environment when OpenCode runs (e.g. provider keys, or an isolated HOME). */
  env?: Record<string, string>;
  /** A specific OpenCode binary for this worker. */
  opencodeBinary?: string;
}

export interface WorkerLogSlice {
  text: string;
  /** Pass back as `offset` to read what comes next. */
  offset: number;
  size: number;
}

export const workers = defineModule("workers", {
  list: query<{ machine?: string }, WorkerView[]>(),
  get: query<WorkerRef, WorkerView>(),
  /** Registers the worker and starts it; resolves once it is starting (watch it reach idle). */
  add: action<AddWorkerArgs, WorkerView>(),
  start: action<WorkerRef, WorkerView>(),
  stop: action<WorkerRef, WorkerView>(),
  restart: action<WorkerRef, WorkerView>(),
  remove: action<WorkerRef, { removed: true; id: WorkerId }>(),
  /** The worker's OpenCode output: the last `maxBytes` (default 16 KiB), or from `offset` on. */
  readLog: action<WorkerRef & { offset?: number; maxBytes?: number }, WorkerLogSlice>(),
});
