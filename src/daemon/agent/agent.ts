// The agent: this machine's side of the fleet. It answers the hub's commands through its link,
// runs workers with the supervisor, and reports heartbeats, run states, models and events.
import { realpathSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { arch, cpus, hostname, platform, release, totalmem } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { FleetError } from "../../protocol/errors.js";
import { PACKAGE_VERSION } from "../../protocol/version.js";
import type { Db } from "../db/open.js";
import type { Logger } from "../log.js";
import { applyWorktree, createWorktree, diffWorktree, removeWorktree } from "./git.js";
import type { AgentLink, CommandHandler, HubCommands, MachineFacts } from "./link.js";
import { killMarked, killRecorded, ProcessRecords, reapLeftovers } from "./reaper.js";
import { Supervisor } from "./supervisor.js";

export interface AgentOptions {
  db: Db;
  log: Logger;
  link: AgentLink;
  logDir: string;
  /** Where worktree chats' worktrees go, one directory per worker (default: next to logDir, `worktrees`). */
  worktreeDir?: string;
  /** Set in every worker's environment (see reaper.ts), unique to this daemon's state directory. */
  agentMark: string;
  /** The umask of the user who started the daemon, which keeps 077 for itself: workers get the user's. */
  workerUmask?: number;
  heartbeatMs?: number;
  backoffMs?: number;
  /** How long to wait before reconnecting a broken event stream. */
  eventsRetryMs?: number;
  /** Every worker in an OpenCode process of its own (this machine's setting; see process-group.ts). */
  isolateWorkers?: boolean;
}

export const HEARTBEAT_MS = 5000;

export function machineFacts(): MachineFacts {
  return {
    hostname: hostname(),
    platform: platform(),
    release: release(),
    arch: arch(),
    cpus: cpus().length,
    totalMemoryBytes: totalmem(),
    agentVersion: PACKAGE_VERSION,
  };
}

export class Agent {
  readonly supervisor: Supervisor;
  private readonly records: ProcessRecords;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly options: AgentOptions) {
    const records = new ProcessRecords(options.db, options.log);
    this.records = records;
    const killed = reapLeftovers(records, options.log, options.agentMark);
    if (killed > 0) options.log.info("reaped processes left from an unclean stop", { killed });
    this.supervisor = new Supervisor({
      logDir: options.logDir,
      log: options.log,
      records,
      agentMark: options.agentMark,
      workerUmask: options.workerUmask,
      backoffMs: options.backoffMs,
      eventsRetryMs: options.eventsRetryMs,
      isolateAll: options.isolateWorkers,
      worktreeRoot: (workerId) => this.worktreesOf(workerId),
      onRuntime: (workerId, runtime) => options.link.report({ type: "worker.runtime", workerId, runtime, at: Date.now() }),
      onModels: (workerId, models) => options.link.report({ type: "worker.models", workerId, models, at: Date.now() }),
      onEvent: (workerId, event) => options.link.report({ type: "worker.event", workerId, event, at: Date.now() }),
    });
    options.link.serve(this.handle as CommandHandler);
  }

  /** Starts heartbeats; the first one goes out at once. */
  start(): void {
    const beat = () => this.options.link.report({ type: "machine.heartbeat", facts: machineFacts(), at: Date.now() });
    beat();
    this.heartbeat = setInterval(beat, this.options.heartbeatMs ?? HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Reports the machine and every worker's state afresh: the hub that just (re)linked may have missed changes. */
  reportState(): void {
    this.options.link.report({ type: "machine.heartbeat", facts: machineFacts(), at: Date.now() });
    for (const [workerId, runtime] of this.supervisor.runtimes()) this.options.link.report({ type: "worker.runtime", workerId, runtime, at: Date.now() });
  }

  async shutdown(budgetMs: number): Promise<void> {
    clearInterval(this.heartbeat);
    await this.supervisor.shutdown(budgetMs);
    this.killRemaining("still running when the workers' stop ran out of time");
  }

  /**
   * Kills, at once and synchronously, every process of this agent still alive (OpenCode and the
   * tools it started), by record and by environment marker: the end of every stop, and what a
   * stop that ran out of time does before the daemon exits, so no OpenCode outlives its daemon.
   */
  killRemaining(why: string): void {
    const pids = new Set<number>();
    try {
      for (const row of this.records.list()) if (killRecorded(row)) pids.add(row.pid);
    } catch {
      // the database may be closed already: the markers still find them
    }
    for (const pid of killMarked(this.options.agentMark)) pids.add(pid);
    if (pids.size > 0) this.options.log.warn(`killed processes ${why}`, { pids: [...pids].join(",") });
  }

  private readonly handle = async <N extends keyof HubCommands>(name: N, args: HubCommands[N]["args"]): Promise<HubCommands[N]["result"]> => {
    const a = args as any;
    switch (name) {
      case "directory.inspect":
        return inspectDirectory(a.directory) as never;
      case "worker.start":
        return this.supervisor.start(a.worker) as never;
      case "worker.stop":
        return (await this.supervisor.stop(a.workerId)) as never;
      case "worker.restart":
        return (await this.supervisor.restart(a.worker)) as never;
      case "worker.remove":
        await this.supervisor.remove(a.workerId);
        return { removed: true } as never;
      case "worker.readLog":
        return (await this.readLog(a.workerId, a.offset, a.maxBytes)) as never;
      case "session.create":
        return { sessionId: await this.supervisor.serverOf(a.workerId).createSession(a.title, a.directory) } as never;
      case "session.exists":
        return { exists: await this.supervisor.serverOf(a.workerId).sessionExists(a.sessionId) } as never;
      case "session.messages":
        return { messages: await this.supervisor.serverOf(a.workerId).sessionMessages(a.sessionId, a.limit) } as never;
      case "requests.pending":
        return { events: await this.supervisor.serverOf(a.workerId).pendingRequests() } as never;
      case "session.rename":
        await this.supervisor.serverOf(a.workerId).renameSession(a.sessionId, a.title);
        return { ok: true } as never;
      case "session.prompt":
        await this.supervisor.serverOf(a.workerId).prompt(a.sessionId, a.text, a.model, a.directory);
        return { ok: true } as never;
      case "session.abort":
        await this.supervisor.serverOf(a.workerId).abort(a.sessionId, undefined, a.directory);
        return { ok: true } as never;
      case "permission.reply":
        await this.supervisor.serverOf(a.workerId).replyPermission(a.requestId, a.reply, a.directory);
        return { ok: true } as never;
      case "question.reply": {
        const server = this.supervisor.serverOf(a.workerId);
        if (a.answers === null) await server.rejectQuestion(a.requestId, a.directory);
        else await server.replyQuestion(a.requestId, a.answers, a.directory);
        return { ok: true } as never;
      }
      case "session.diff":
        return { files: await this.supervisor.serverOf(a.workerId).sessionDiff(a.sessionId, a.directory) } as never;
      case "worktree.create":
        return (await createWorktree({
          workerDirectory: a.workerDirectory,
          root: this.worktreesOf(a.workerId),
          name: a.chatId,
          branch: a.branch,
          from: a.from,
        })) as never;
      case "worktree.remove":
        await removeWorktree({ workerDirectory: a.workerDirectory, path: this.worktreeOf(a.workerId, a.chatId), force: a.force });
        return { removed: true } as never;
      case "worktree.diff":
        return (await diffWorktree({ path: this.worktreeOf(a.workerId, a.chatId), base: a.base })) as never;
      case "worktree.apply":
        return (await applyWorktree({ workerDirectory: a.workerDirectory, path: this.worktreeOf(a.workerId, a.chatId), base: a.base })) as never;
      default:
        throw new FleetError("invalid_argument", `unknown agent command ${String(name)}`);
    }
  };

  /** The agent's own directory for a worker's worktrees: the hub names a chat, never a path to touch. */
  private worktreesOf(workerId: string): string {
    if (!/^[A-Za-z0-9_]+$/.test(workerId)) throw new FleetError("invalid_argument", "bad worker id", { field: "workerId" });
    return join(this.options.worktreeDir ?? join(dirname(this.options.logDir), "worktrees"), workerId);
  }

  private worktreeOf(workerId: string, chatId: string): string {
    if (!/^[A-Za-z0-9_]+$/.test(chatId)) throw new FleetError("invalid_argument", "bad chat id", { field: "chatId" });
    return join(this.worktreesOf(workerId), chatId);
  }

  /** A slice of a worker's log: the last `maxBytes` when offset is null, else from offset on. */
  private async readLog(workerId: string, offset: number | null, maxBytes: number): Promise<{ text: string; offset: number; size: number }> {
    const path = this.supervisor.logPath(workerId);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return { text: "", offset: 0, size: 0 };
    }
    const start = offset === null ? Math.max(0, size - maxBytes) : Math.min(offset, size);
    const length = Math.min(maxBytes, size - start);
    if (length <= 0) return { text: "", offset: start, size };
    const handle = await open(path, "r");
    try {
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, start);
      return { text: buffer.toString("utf8"), offset: start + length, size };
    } finally {
      await handle.close();
    }
  }
}

/** Resolves a directory the way the worker will see it, or says plainly what is wrong with it. */
export function inspectDirectory(directory: string): { directory: string } {
  if (!isAbsolute(directory)) throw new FleetError("invalid_argument", `directory must be an absolute path, not '${directory}'`, { field: "directory" });
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(directory);
  } catch {
    throw new FleetError("not_found", `${directory} does not exist`, { field: "directory" });
  }
  if (!stats.isDirectory()) throw new FleetError("invalid_argument", `${directory} is a file, not a directory`, { field: "directory" });
  return { directory: realpathSync(directory) };
}
