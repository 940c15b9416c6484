// Helpers for fault-injection tests: a seeded random source, what a client saw of a chat (committed
// messages, the streaming reply), and the processes a daemon's workers left on this machine.
import { realpathSync } from "node:fs";
import type { FleetConnection } from "../../src/client/connection.js";
import { agentMarkOf, AGENT_MARK } from "../../src/daemon/agent/reaper.js";
import { descendantsOf, processesMarkedWith, readCommandLine } from "../../src/platform/processes.js";
import { api, type MessageView, type PartView, type WorkerView } from "../../src/protocol/api/index.js";
import { runCli } from "./daemon.js";
import type { OpencodeSandbox } from "./opencode.js";

/** The seed of a fault run: FAULT_SEED to replay one, else a fresh one. Printed, so a failure can be replayed. */
export function faultSeed(what: string): number {
  const given = process.env.FAULT_SEED;
  const seed = given !== undefined && given !== "" ? Number(given) >>> 0 : Math.floor(Math.random() * 2 ** 32) >>> 0;
  console.log(`${what}: fault seed ${seed} (replay with FAULT_SEED=${seed})`);
  return seed;
}

/** mulberry32: a small, fast, seeded generator; `int(n)` is in [0, n). */
export function seededRandom(seed: number): { next(): number; int(n: number): number; pick<T>(items: readonly T[]): T } {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: (items) => items[int(items.length)]! };
}

export const textOf = (m: MessageView | null | undefined): string =>
  (m?.parts ?? [])
    .filter((p): p is Extract<PartView, { kind: "text" }> => p.kind === "text")
    .map((p) => p.text)
    .join("");

/** The parts of a message a fault must never change once it is committed. */
export const seenOf = (m: MessageView): SeenMessage => ({ role: m.role, replyTo: m.replyTo, status: m.status, text: textOf(m) });

export interface SeenMessage {
  role: string;
  replyTo: string | null;
  status: string;
  text: string;
}

/**
 * What one client saw of a chat: every message the daemon reported committed (chat.messages never
 * shows a reply still streaming), and the reply streaming now. `onChange` runs after each value, so
 * a test can act at an exact event (kill the daemon after the k-th delta) rather than after a sleep.
 */
export class ChatWatcher {
  readonly committed = new Map<string, SeenMessage>();
  streaming: MessageView | null = null;
  /** The longest text the stream showed for each reply. */
  readonly streamedText = new Map<string, string>();
  private readonly listeners = new Set<() => void>();
  private readonly subscriptions: Array<{ unsubscribe(): void }> = [];

  constructor(connection: FleetConnection, chatId: string) {
    const ignore = () => {}; // the daemon going away (on purpose) ends the subscriptions
    this.subscriptions.push(
      connection.subscribe(
        api.chat.messages,
        { chat: chatId },
        {
          onValue: (messages) => {
            for (const m of messages) this.committed.set(m.id, seenOf(m));
            this.notify();
          },
          onError: ignore,
        },
      ),
      connection.subscribe(
        api.chat.stream,
        { chat: chatId },
        {
          onValue: (m) => {
            this.streaming = m;
            if (m && textOf(m).length >= (this.streamedText.get(m.id)?.length ?? 0)) this.streamedText.set(m.id, textOf(m));
            this.notify();
          },
          onError: ignore,
        },
      ),
    );
  }

  /** The committed reply to a user message, once there is one. */
  replyTo(messageId: string): SeenMessage | undefined {
    return [...this.committed.values()].find((m) => m.replyTo === messageId);
  }

  /** Runs `act` (once) at the first value after which `when` holds; resolves with what `act` returned. */
  at<T>(when: () => boolean, act: () => T, timeoutMs = 60_000, what = "the event"): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!when()) return;
        this.listeners.delete(check);
        clearTimeout(timer);
        try {
          resolve(act());
        } catch (err) {
          reject(err);
        }
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  close(): void {
    for (const s of this.subscriptions) s.unsubscribe();
    this.listeners.clear();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** The environment marker value of the daemon of `home` (src/daemon/agent/reaper.ts). */
export function agentMarkFor(home: string): string {
  return agentMarkOf(realpathSync(home));
}

/** Processes carrying the daemon's marker that are not `opencodePid` or one of its descendants: leftovers. */
export function strayProcesses(home: string, opencodePid: number | null): Array<{ pid: number; command: string }> {
  const marked = processesMarkedWith({ [AGENT_MARK]: agentMarkFor(home) });
  const allowed = new Set<number>(opencodePid ? [opencodePid, ...descendantsOf(opencodePid).map((p) => p.pid)] : []);
  return marked.filter((pid) => !allowed.has(pid)).map((pid) => ({ pid, command: (readCommandLine(pid) ?? ["?"]).join(" ") }));
}

/** The pid of a live process whose command line is exactly `command`, if any. */
export function findProcess(command: string, among: number[]): number | undefined {
  return among.find((pid) => readCommandLine(pid)?.join(" ") === command);
}

/**
 * `ocfleet worker add` of a sandbox worker, with room for a machine so loaded that OpenCode takes
 * far longer than usual to start (the shared helper gives the CLI 30 s).
 */
export async function addPatientWorker(home: string, sandbox: OpencodeSandbox, name: string, permission?: "allow" | "ask"): Promise<WorkerView> {
  const result = await runCli(home, ["worker", "add", sandbox.project(name), "--name", name, "--env-file", sandbox.envFile(name, permission), "--json"], {
    timeoutMs: 150_000,
  });
  if (result.code !== 0) throw new Error(`ocfleet worker add exited ${result.code}\n${result.stderr}${result.stdout}`);
  return JSON.parse(result.stdout) as WorkerView;
}
