// Workers: an OpenCode server bound to one directory on one machine.
import type { MachineId, UserId, WorkerId } from "../ids.js";
import { action, defineModule, mutation, query } from "./define.js";
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
  /** In an OpenCode process of its own; otherwise it shares one with the machine's workers of the same binary and environment. */
  isolated: boolean;
  modelsRefreshedAt: number | null;
  /** The owner's name: who added it. The owner and admins control it; others use it only if shared. */
  createdBy: string | null;
  ownerId: UserId | null;
  createdAt: number;
  /** Everyone signed in may chat on it. */
  sharedWithEveryone: boolean;
  /** Names of the users it is shared with. */
  sharedWith: string[];
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
  /** An OpenCode process of its own, shared with no other worker (crash isolation, at a few hundred MB). */
  isolated?: boolean;
}

/** Share with one user (`with`: an id, a name or an email) or with everyone: exactly one of the two. */
export type ShareArgs = WorkerRef & { with?: string; everyone?: true };

/** Stop sharing with one user, with everyone, or (neither given) with anyone at all. */
export type UnshareArgs = WorkerRef & { with?: string; everyone?: true };

export interface RemovedWorker {
  removed: true;
  id: WorkerId;
  name: string;
  /** Its chats stay, readable, marked "worker removed". */
  chatsKept: number;
  /** Schedules removed with it (only with `force`). */
  schedulesRemoved: number;
}

/** What start and stop did: nothing when the worker already was running or stopped. */
export type WorkerChange = WorkerView & { already: boolean };

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
  /** Idempotent: a running worker is left alone, with `already: true`. */
  start: action<WorkerRef, WorkerChange>(),
  /** Idempotent: a stopped worker is left alone, with `already: true`. */
  stop: action<WorkerRef, WorkerChange>(),
  restart: action<WorkerRef, WorkerView>(),
  /** Chats are kept; a worker with schedules is refused unless `force`, which removes them. */
  remove: action<WorkerRef & { force?: boolean }, RemovedWorker>(),
  /** Owner or admin: lets a user (or everyone) chat on the worker. */
  share: mutation<ShareArgs, WorkerView>(),
  unshare: mutation<UnshareArgs, WorkerView>(),
  /** The worker's OpenCode output: the last `maxBytes` (default 16 KiB), or from `offset` on. */
  readLog: action<WorkerRef & { offset?: number; maxBytes?: number }, WorkerLogSlice>(),
});
