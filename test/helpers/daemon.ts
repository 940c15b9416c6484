// Test helpers: a temporary OCFLEET_HOME, the real CLI binary, and the real daemon it starts.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectToDaemon } from "../../src/client/daemon.js";
import { api } from "../../src/protocol/api/index.js";
import { FleetConnection } from "../../src/client/connection.js";
import { isPidAlive, waitForExit } from "../../src/platform/processes.js";
import { agentMarkOf, killMarked, markedProcesses } from "../../src/daemon/agent/reaper.js";
import { readStateFile, statePaths, type DaemonStateFile } from "../../src/protocol/statefile.js";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = join(REPO_ROOT, "bin", "ocfleet.js");

const homes = new Set<string>();

/** A fresh state directory. `cleanupHomes` kills its daemon and deletes it. */
export function createHome(prefix = "ocf-test-"): string {
  const home = mkdtempSync(join(tmpdir(), prefix));
  homes.add(home);
  return home;
}

export async function cleanupHomes(): Promise<void> {
  const leaks: string[] = [];
  for (const home of homes) {
    const state = daemonState(home);
    const stoppedItself = state !== null && isPidAlive(state.pid) && (process.kill(state.pid, "SIGTERM"), await waitForExit(state.pid, 10_000));
    if (state && !stoppedItself) await killDaemon(home, "SIGKILL");
    // The home goes away with its daemon's records, so no later start would reap what it left:
    // kill every OpenCode and tool process carrying its agent's marker now. After a daemon that
    // stopped by itself there must be none; after one killed here, they are the harness's to clean.
    const mark = agentMarkOf(realpathSync(home));
    // What the daemon's stop killed may still be exiting on a busy machine (a large OpenCode takes
    // a while to unmap): wait for that, so only a process nobody killed counts as left running.
    const deadline = Date.now() + 10_000;
    while (stoppedItself && markedProcesses(mark).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const left = killMarked(mark);
    if (stoppedItself && left.length > 0) leaks.push(`${home}: ${left.join(", ")}`);
    rmSync(home, { recursive: true, force: true });
  }
  homes.clear();
  if (leaks.length > 0) throw new Error(`a daemon stopped by SIGTERM left processes of its agent running: ${leaks.join("; ")}`);
}

export function daemonState(home: string): DaemonStateFile | null {
  return readStateFile(statePaths(home).stateFile);
}

/** Sends a signal to the home's daemon (if any) and waits for it to exit. */
export async function killDaemon(home: string, signal: NodeJS.Signals): Promise<number | null> {
  const state = daemonState(home);
  if (!state || !isPidAlive(state.pid)) return null;
  process.kill(state.pid, signal);
  if (!(await waitForExit(state.pid, 10_000))) {
    process.kill(state.pid, "SIGKILL");
    await waitForExit(state.pid, 5000);
  }
  return state.pid;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `ocfleet` binary with OCFLEET_HOME set, and collects its output. */
export function runCli(home: string, args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, NO_COLOR: "1", ...options.env, OCFLEET_HOME: home },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`ocfleet ${args.join(" ")} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
      // A guard against a hung command, not a wait: commands that wait on an OpenCode start (worker
      // add) finish when it is up, which on a loaded 2-core machine can take most of a minute.
    }, options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? "");
  });
}

/** Runs the CLI and parses its --json output; fails the test with the output if it did not exit 0. */
export async function cliJson<T = any>(home: string, args: string[]): Promise<T> {
  const result = await runCli(home, [...args, "--json"]);
  if (result.code !== 0) throw new Error(`ocfleet ${args.join(" ")} exited ${result.code}\n${result.stderr}${result.stdout}`);
  return JSON.parse(result.stdout) as T;
}

/** A client connection through the client library, starting the daemon if needed and signed in as the owner. */
export function connect(home: string): Promise<FleetConnection> {
  return connectToDaemon({ home, autoStart: true, clientName: "test" });
}

/** Resolves when `predicate` holds, polling; rejects with `what` after the timeout. */
export async function waitFor<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A connection that signs in with exactly the given session token, or with none: for tests that
 * sign in themselves (anonymous users, codes) or present stale tokens. Starts the daemon if needed.
 */
export async function connectWithSession(home: string, session?: string): Promise<FleetConnection> {
  if (!daemonState(home)) (await connect(home)).close();
  const state = daemonState(home)!;
  return FleetConnection.open({ host: state.host, port: state.port, token: state.token, clientName: "test", session });
}

export interface RunningCli {
  child: ChildProcess;
  /** Resolves with the first match of `pattern` in stdout+stderr, waiting for more output if needed. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  done: Promise<CliResult>;
}

/** Starts the real `ocfleet` binary and lets the test read its output while it runs (interactive flows). */
export function startCli(home: string, args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, NO_COLOR: "1", ...options.env, OCFLEET_HOME: home },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  child.stdin!.end(options.stdin ?? "");
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return {
    child,
    done,
    waitForOutput: (pattern, timeoutMs = 15_000) =>
      waitFor(`ocfleet ${args.join(" ")} to print ${pattern}`, () => (stdout + stderr).match(pattern), timeoutMs).catch((err: Error) => {
        throw new Error(`${err.message}\nstdout: ${stdout}\nstderr: ${stderr}`);
      }),
  };
}

/** A connection of its own signed in as the machine's owner (an admin), leaving the saved credential alone. */
export async function connectAsOwner(home: string): Promise<FleetConnection> {
  const connection = await connectWithSession(home);
  await connection.call(api.auth.signInAsOwner, {});
  return connection;
}

export interface TwoUsers {
  /** The machine's owner, an admin. */
  owner: FleetConnection;
  ownerName: string;
  /** A plain user, signed in anonymously on its own connection. */
  plain: FleetConnection;
  plainName: string;
}

/** Two clients under two different users, for tests of live updates and of rights. */
export async function twoUsers(home: string): Promise<TwoUsers> {
  const owner = await connectAsOwner(home);
  const ownerName = (await owner.call(api.auth.whoami, {})).user.name;
  const plain = await connectWithSession(home);
  const plainName = (await plain.call(api.auth.loginAnonymous, {})).user.name;
  return { owner, ownerName, plain, plainName };
}
