// The link between the hub side of a daemon and an agent (the supervisor of one machine's workers).
// Routing code talks to a HubLink and never asks whether the agent is in this process or on
// another machine: the in-process link below and a WebSocket link implement the same messages.
import type { Worktree, WorktreeDiff } from "./git.js";
import type { OpencodeEvent, OpencodeFileDiff, OpencodeMessageWithParts, OpencodeModel } from "./opencode.js";

export interface MachineFacts {
  hostname: string;
  platform: string;
  release: string;
  arch: string;
  cpus: number;
  totalMemoryBytes: number;
  agentVersion: string;
}

export type WorkerRunState = "starting" | "idle" | "active" | "offline" | "error";

/** What an agent knows about a worker's process; the hub stores it. */
export interface WorkerRuntime {
  runState: WorkerRunState;
  reason: string | null;
  pid: number | null;
  startedAt: number | null;
  restartCount: number;
  opencodeVersion: string | null;
}

/** Everything an agent needs to run a worker. */
export interface WorkerSpec {
  id: string;
  directory: string;
  env: Record<string, string>;
  opencodeBinary: string | null;
  /** In an OpenCode process of its own, never shared with other workers (`worker add --isolated`). */
  isolated?: boolean;
}

/** What the hub asks an agent to do, and what each answers. */
export interface HubCommands {
  /** Resolves a directory on the agent's machine, refusing what is not a directory. */
  "directory.inspect": { args: { directory: string }; result: { directory: string } };
  "worker.start": { args: { worker: WorkerSpec }; result: WorkerRuntime };
  "worker.stop": { args: { workerId: string }; result: WorkerRuntime };
  "worker.restart": { args: { worker: WorkerSpec }; result: WorkerRuntime };
  "worker.remove": { args: { workerId: string }; result: { removed: true } };
  "worker.readLog": { args: { workerId: string; offset: number | null; maxBytes: number }; result: { text: string; offset: number; size: number } };
  /** `directory`: where the session works when not in the worker's own directory (a worktree chat's worktree). */
  "session.create": { args: { workerId: string; title: string; directory?: string | null }; result: { sessionId: string } };
  "session.exists": { args: { workerId: string; sessionId: string }; result: { exists: boolean } };
  /** A session's latest messages (all of them without a limit), oldest first. */
  "session.messages": { args: { workerId: string; sessionId: string; limit?: number }; result: { messages: OpencodeMessageWithParts[] } };
  /** Permission and question requests that wait for an answer now, as `*.asked` events. */
  "requests.pending": { args: { workerId: string }; result: { events: OpencodeEvent[] } };
  "session.rename": { args: { workerId: string; sessionId: string; title: string }; result: { ok: true } };
  "session.prompt": {
    args: { workerId: string; sessionId: string; text: string; model: { providerId: string; modelId: string } | null; directory?: string | null };
    result: { ok: true };
  };
  "session.abort": { args: { workerId: string; sessionId: string; directory?: string | null }; result: { ok: true } };
  "permission.reply": { args: { workerId: string; requestId: string; reply: "once" | "always" | "reject"; directory?: string | null }; result: { ok: true } };
  "question.reply": { args: { workerId: string; requestId: string; answers: string[][] | null; directory?: string | null }; result: { ok: true } };
  /** The files OpenCode says a session changed (its session diff). */
  "session.diff": { args: { workerId: string; sessionId: string; directory?: string | null }; result: { files: OpencodeFileDiff[] } };
  /** Worktree chats (agent/git.ts): the agent keeps them under its own directory, one per worker and chat. */
  "worktree.create": {
    args: { workerId: string; workerDirectory: string; chatId: string; branch: string; from: string | null };
    result: Worktree;
  };
  "worktree.remove": { args: { workerId: string; workerDirectory: string; chatId: string; force: boolean }; result: { removed: true } };
  "worktree.diff": { args: { workerId: string; chatId: string; base: string }; result: WorktreeDiff };
  "worktree.apply": { args: { workerId: string; workerDirectory: string; chatId: string; base: string }; result: { files: string[] } };
}

export type HubCommandName = keyof HubCommands;

/** What an agent tells the hub, unasked. */
export type AgentReport =
  | { type: "machine.heartbeat"; facts: MachineFacts; at: number }
  | { type: "worker.runtime"; workerId: string; runtime: WorkerRuntime; at: number }
  | { type: "worker.models"; workerId: string; models: OpencodeModel[]; at: number }
  | { type: "worker.event"; workerId: string; event: OpencodeEvent; at: number };

/** The hub's end of a link to one machine's agent. */
export interface HubLink {
  readonly machineId: string;
  command<N extends HubCommandName>(name: N, args: HubCommands[N]["args"]): Promise<HubCommands[N]["result"]>;
}

export type CommandHandler = <N extends HubCommandName>(name: N, args: HubCommands[N]["args"]) => Promise<HubCommands[N]["result"]>;

/** The agent's end of a link. */
export interface AgentLink {
  report(report: AgentReport): void;
  /** Installs the handler for the hub's commands. */
  serve(handler: CommandHandler): void;
}

/** Both ends of a link inside one process: the local machine's agent and its own hub. */
export function createInProcessLink(machineId: string, onReport: (machineId: string, report: AgentReport) => void): { hub: HubLink; agent: AgentLink } {
  let handler: CommandHandler | undefined;
  const hub: HubLink = {
    machineId,
    command: (name, args) => {
      if (!handler) return Promise.reject(new Error("the local agent is not serving commands yet"));
      return handler(name, args);
    },
  };
  const agent: AgentLink = {
    report: (report) => onReport(machineId, report),
    serve: (next) => {
      handler = next;
    },
  };
  return { hub, agent };
}
