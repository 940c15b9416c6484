// One worker as the supervisor keeps it: its spec, its run state, its process group and what it
// knows of its sessions. Apart from supervisor.ts only so the fan-out (fanout.ts) can share it.
import type { WorkerRuntime, WorkerSpec } from "./link.js";
import type { OpencodeServer } from "./opencode.js";
import type { ProcessGroup } from "./process-group.js";
import type { WorkerLog } from "./worker-log.js";

export type Group = ProcessGroup<ManagedWorker>;

export class ManagedWorker {
  /** Its requests, once its process serves its directory. */
  server: OpencodeServer | null = null;
  group: Group | null = null;
  runtime: WorkerRuntime = { runState: "offline", reason: "not started", pid: null, startedAt: null, restartCount: 0, opencodeVersion: null };
  wanted = false;
  attaching = false;
  leaving: Promise<void> | null = null;
  /** Failures of its own (its directory could not be served), apart from its process's. */
  failures = 0;
  busy = new Set<string>();
  restartTimer: NodeJS.Timeout | undefined;

  constructor(
    public spec: WorkerSpec,
    readonly log: WorkerLog,
  ) {}
}
