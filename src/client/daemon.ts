// Finding the daemon for a state directory: connect to it, start it detached if none runs,
// replace one of another version, sign the connection in, and stop the daemon.
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { api } from "../protocol/api/index.js";
import { FleetError } from "../protocol/errors.js";
import { EXIT_ALREADY_RUNNING, EXIT_STATE_UNUSABLE } from "../protocol/exit-codes.js";
import { readStateFile, statePaths } from "../protocol/statefile.js";
import { PACKAGE_VERSION } from "../protocol/version.js";
import { ensurePrivateDir } from "../platform/files.js";
import { PACKAGE_ROOT } from "../platform/package-root.js";
import { readCommandLine, waitForExit } from "../platform/processes.js";
import { localHubKey, openCredentialStore, type CredentialStore } from "../auth/credentials.js";
import type { FleetConnection } from "./connection.js";
import { connectToRunningDaemon, openWith } from "./running-daemon.js";

export interface DaemonConnectOptions {
  home: string;
  /** Start a daemon if none answers. */
  autoStart: boolean;
  /** Called with short human messages while waiting ("starting the daemon…"). */
  onProgress?: (message: string) => void;
  clientName?: string;
  /**
   * auto (the default): present the stored credential; if there is none or it no longer works,
   * sign in as the machine's owner and store the new one. stored: present the stored credential
   * only. none: no session (the caller signs in itself).
   */
  signIn?: "auto" | "stored" | "none";
  /** Things the user should hear once: a credential that stopped working, a plain-text store. */
  onNotice?: (message: string) => void;
}

const BIN_PATH = join(PACKAGE_ROOT, "bin", "ocfleet.js");

function startTimeoutMs(): number {
  const fromEnv = Number(process.env.OCFLEET_START_TIMEOUT_MS);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 15_000;
}

/** Whether the pid runs an ocfleet daemon, judged by its command line; a reused pid is not ours. */
export function isOcfleetDaemon(pid: number): boolean {
  const argv = readCommandLine(pid);
  if (!argv) return false;
  const launcher = argv.findIndex((arg) => /(?:^|\/)(?:ocfleet(?:\.js)?|opencode-fleet)$/.test(arg));
  return launcher >= 0 && argv[launcher + 1] === "daemon" && argv[launcher + 2] === "run";
}

/** The last lines of the daemon log, for error messages. */
export function tailDaemonLog(home: string, lines = 20): string {
  try {
    const text = readFileSync(statePaths(home).log, "utf8").trimEnd();
    return text.split("\n").slice(-lines).join("\n");
  } catch {
    return "(the daemon log is empty)";
  }
}

export { connectToRunningDaemon };

/**
 * Returns a connection to the current-version daemon of `home`, starting or replacing it as needed.
 * Throws a FleetError whose message carries the tail of the daemon log when it cannot come up.
 */
export async function connectToDaemon(options: DaemonConnectOptions): Promise<FleetConnection> {
  const signIn = options.signIn ?? "auto";
  const store = signIn === "none" ? null : await openCredentialStore(options.home, { onNotice: options.onNotice });
  const hub = localHubKey(options.home);
  const stored = store ? await store.get(hub) : null;
  const connection = await reachDaemon(options, stored?.token);
  if (signIn === "auto" && store) {
    try {
      await signInAsOwnerIfNeeded(connection, store, hub, stored !== null, options.onNotice);
    } catch (err) {
      connection.close();
      throw err;
    }
  }
  return connection;
}

/**
 * The local first-use path: no credential, or one that stopped working, on a connection that
 * proved it is this machine's OS user, signs in as the owner. The user never types anything.
 */
async function signInAsOwnerIfNeeded(
  connection: FleetConnection,
  store: CredentialStore,
  hub: string,
  hadCredential: boolean,
  onNotice?: (message: string) => void,
): Promise<void> {
  const { caller } = connection.welcome;
  if (caller.user) return;
  const result = await connection.call(api.auth.signInAsOwner, {});
  await store.set(hub, { sessionId: result.session.id, token: result.session.token, userName: result.user.name, savedAt: Date.now() });
  if (hadCredential && caller.sessionProblem) {
    const why = caller.sessionProblem === "unknown" ? "is not known to the daemon" : `was ${caller.sessionProblem === "expired" ? "expired" : "revoked"}`;
    onNotice?.(`your saved session ${why}; signed in as this machine's owner, ${result.user.name}`);
  }
}

async function reachDaemon(options: DaemonConnectOptions, session: string | undefined): Promise<FleetConnection> {
  const paths = statePaths(options.home);
  const state = readStateFile(paths.stateFile);
  if (state) {
    const connection = await openWith(state, options.clientName, session).catch(() => null);
    if (connection && connection.welcome.server.version === PACKAGE_VERSION) return connection;
    if (connection) {
      if (!options.autoStart) return connection;
      options.onProgress?.(`replacing daemon ${connection.welcome.server.version} with ${PACKAGE_VERSION}…`);
      await stopDaemonVia(connection, state.pid);
    } else if (isOcfleetDaemon(state.pid)) {
      // Alive but not answering: it is starting or stopping. Give it the start timeout to settle.
      options.onProgress?.("waiting for the daemon to answer…");
      const settled = await waitForDaemon(options.home, startTimeoutMs(), options.clientName, session, null);
      if (settled) return settled;
      throw new FleetError("unavailable", `the daemon (pid ${state.pid}) is running but does not answer.\n${tailDaemonLog(options.home)}`);
    }
    // Otherwise the state file is stale (dead pid, or a pid reused by another program); a new daemon replaces it.
  }
  if (!options.autoStart) throw new FleetError("unavailable", `no ocfleet daemon is running for ${options.home}`);
  options.onProgress?.("starting the ocfleet daemon…");
  return startDaemon(options.home, options.clientName, session);
}

/**
 * How Node runs the daemon. A young generation of 1 MB semi-spaces (Node's default grows to 16 MB)
 * keeps 8 MB of an idle, long-lived process's memory: its garbage is small and short-lived (frames,
 * deltas), so the extra scavenges are cheap. (On Node 24 they made better-sqlite3 12 abort; the
 * daemon runs 13 there, db/sqlite-driver.ts.) One V8 helper thread instead of four: each thread
 * that helps the collector or the compiler keeps its own malloc arena and work buffers, ~10 MB in
 * all, for a heap of ~20 MB that one helper collects as fast. Source maps only with OCFLEET_DEBUG=1:
 * the first stack trace formatted with them parses the daemon chunk's map into 25 MB that stay
 * (docs/performance.md).
 */
export function daemonNodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  // OCFLEET_DAEMON_NODE_FLAGS adds flags NODE_OPTIONS refuses (--trace-gc, for the soak).
  const extra = (env.OCFLEET_DAEMON_NODE_FLAGS ?? "").split(" ").filter((flag) => flag.startsWith("--"));
  return [...(env.OCFLEET_DEBUG === "1" ? ["--enable-source-maps"] : []), "--max-semi-space-size=1", "--v8-pool-size=1", ...extra];
}

/** Starts a detached daemon and waits until it answers. */
async function startDaemon(home: string, clientName: string | undefined, session: string | undefined): Promise<FleetConnection> {
  const paths = statePaths(home);
  ensurePrivateDir(home);
  const { spawn } = await import("node:child_process");
  const logFd = openSync(paths.log, "a", 0o600);
  const child = spawn(process.execPath, [...daemonNodeFlags(), BIN_PATH, "daemon", "run", "--background"], {
    detached: true,
    stdio: ["ignore", logFd, logFd],
    env: { ...process.env, OCFLEET_HOME: home },
  });
  closeSync(logFd);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.once("exit", (code, signal) => (exit = { code, signal }));
  child.once("error", () => (exit = { code: -1, signal: null }));
  child.unref();

  const deadline = Date.now() + startTimeoutMs();
  const connection = await waitForDaemon(home, deadline - Date.now(), clientName, session, () => {
    // Losing the race to another daemon that started at the same moment is fine: use that one.
    if (exit && exit.code === EXIT_STATE_UNUSABLE) {
      // The daemon said what is wrong and what to do, as its last line: that line is the whole story.
      const said = tailDaemonLog(home)
        .split("\n")
        .reverse()
        .find((line) => line.startsWith("ocfleet: "));
      if (said) throw new FleetError("failed_precondition", said.slice("ocfleet: ".length));
    }
    if (exit && exit.code !== EXIT_ALREADY_RUNNING) return `the daemon exited during start (${exit.signal ?? `code ${exit.code}`})`;
    return null;
  });
  if (connection) return connection;
  throw new FleetError(
    "unavailable",
    `the daemon did not come up within ${Math.round(startTimeoutMs() / 1000)} s. Last lines of ${paths.log}:\n${tailDaemonLog(home)}`,
  );
}

/**
 * Polls the state file until a current daemon answers, the time runs out (null), or `failed`
 * reports a reason to give up (thrown with the log tail).
 */
async function waitForDaemon(
  home: string,
  timeoutMs: number,
  clientName: string | undefined,
  session: string | undefined,
  failed: (() => string | null) | null,
): Promise<FleetConnection | null> {
  const paths = statePaths(home);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const state = readStateFile(paths.stateFile);
    if (state && state.version === PACKAGE_VERSION) {
      const connection = await openWith(state, clientName, session).catch(() => null);
      if (connection) return connection;
    }
    const reason = failed?.();
    if (reason) throw new FleetError("unavailable", `${reason}. Last lines of ${paths.log}:\n${tailDaemonLog(home)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return null;
}

/** Asks a daemon to stop and waits for its process to end; kills it only if it is still our daemon. */
async function stopDaemonVia(connection: FleetConnection, pid: number): Promise<void> {
  await connection.call(api.daemon.stop, {}, { timeoutMs: 3000 }).catch(() => undefined);
  connection.close();
  if (await waitForExit(pid, 8000)) return;
  if (!isOcfleetDaemon(pid)) return;
  process.kill(pid, "SIGTERM");
  if (await waitForExit(pid, 3000)) return;
  if (isOcfleetDaemon(pid)) process.kill(pid, "SIGKILL");
  await waitForExit(pid, 2000);
}

export interface StopOutcome {
  wasRunning: boolean;
  pid: number | null;
}

/** Stops the daemon of `home` if one runs. */
export async function stopDaemon(home: string): Promise<StopOutcome> {
  const state = readStateFile(statePaths(home).stateFile);
  if (!state) return { wasRunning: false, pid: null };
  const connection = await openWith(state).catch(() => null);
  if (connection) {
    await stopDaemonVia(connection, state.pid);
    return { wasRunning: true, pid: state.pid };
  }
  if (!isOcfleetDaemon(state.pid)) return { wasRunning: false, pid: null };
  process.kill(state.pid, "SIGTERM");
  if (!(await waitForExit(state.pid, 8000)) && isOcfleetDaemon(state.pid)) process.kill(state.pid, "SIGKILL");
  return { wasRunning: true, pid: state.pid };
}
