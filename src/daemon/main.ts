// The daemon process: claim the state directory, open the store, serve, and stop cleanly.
import { driverPackage } from "./db/sqlite-driver.js";
import { realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { FleetError } from "../protocol/errors.js";
import { readStateFile, statePaths, type DaemonStateFile } from "../protocol/statefile.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../protocol/version.js";
import { ensurePrivateDir, writePrivateFileAtomic } from "../platform/files.js";
import { readAuthPolicy } from "./accounts/policy.js";
import { findSessionByToken, resolveSession, SESSIONS_TABLE, userSessionsKey } from "./accounts/sessions.js";
import { randomToken, SecretKeeper } from "./crypto.js";
import { migrate } from "./db/migrate.js";
import { migrations } from "./db/migrations/index.js";
import { assertUsableStateFile } from "./db/state-file-check.js";
import { openDatabase, type Db } from "./db/open.js";
import { createLogger } from "./log.js";
import { FleetServer } from "./server.js";
import { Agent, machineFacts } from "./agent/agent.js";
import { createInProcessLink } from "./agent/link.js";
import { AgentLinkSwitch } from "./hub/agent-switch.js";
import { Membership } from "./hub/membership.js";
import type { SessionId } from "../protocol/ids.js";
import { agentMarkOf } from "./agent/reaper.js";
import { markOffline, registerLocalMachine } from "./model/machines.js";
import { resetRuntimes } from "./model/workers.js";
import { DEFAULT_CLEANUP, type CleanupSettings } from "./jobs/index.js";
import { wireDaemonCore } from "./core.js";
import { DEFAULT_STALL_MS } from "./chat/stall.js";

export interface DaemonOptions {
  home: string;
  /** Echo the log to stderr (ocfleet daemon run in a terminal). */
  echoLog: boolean;
}

/** How long a graceful stop may take before the process exits anyway. */
const SHUTDOWN_BUDGET_MS = 8000;
/** Of that, how long running calls may take to finish, and how long workers may take to stop. */
const DRAIN_MS = 1000;
const WORKERS_STOP_MS = 4000;

export class AlreadyRunningError extends Error {}

/** A positive number from the environment (settings for tests and impatient users), or the default. */
function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

export async function runDaemon(options: DaemonOptions): Promise<void> {
  const paths = statePaths(options.home);
  // Everything the daemon creates (database, logs, worker files) is for this OS user only; OpenCode
  // and its tools get back the umask of the user who started the daemon, for files in their repositories.
  const userUmask = process.umask(0o077);
  ensurePrivateDir(paths.home);
  const log = createLogger({ file: paths.log, echo: options.echoLog, debug: process.env.OCFLEET_DEBUG === "1" });
  const startedAt = Date.now();

  // Signals are caught from the first moment: one that arrives while the daemon is still starting
  // (a client may already see daemon.json) is held, and acted on once it has started.
  let onSignal: (reason: string) => void = (reason) => {
    earlySignal ??= reason;
  };
  let earlySignal: string | undefined;
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGHUP", () => log.info("ignoring SIGHUP"));

  // The single-instance lock is state.db itself, held in SQLite's exclusive locking mode.
  let db: Db;
  try {
    assertUsableStateFile(paths.db);
  } catch (err) {
    log.error("cannot use the state file", { error: (err as Error).message });
    log.close();
    throw err;
  }
  try {
    db = openDatabase(paths.db, { exclusive: true });
  } catch (err) {
    if ((err as { code?: string }).code === "SQLITE_BUSY") {
      const other = readStateFile(paths.stateFile);
      const who = other ? ` (pid ${other.pid}, port ${other.port})` : "";
      log.warn("another daemon holds this state directory; exiting", { home: paths.home });
      log.close();
      throw new AlreadyRunningError(`an ocfleet daemon is already running for ${paths.home}${who}`);
    }
    throw err;
  }

  try {
    const outcome = migrate(db, migrations, { dbPath: paths.db });
    if (outcome.from !== outcome.to) log.info("database migrated", { ...outcome });
  } catch (err) {
    log.error("cannot open the database", { error: err instanceof FleetError ? err.message : err });
    db.close();
    log.close();
    throw err;
  }

  const secrets = SecretKeeper.loadOrCreate(paths.secretKey);
  const authPolicy = readAuthPolicy();
  const token = randomToken();
  let server: FleetServer | undefined;
  let stopping: Promise<void> | undefined;

  const cleanup: CleanupSettings = {
    ...DEFAULT_CLEANUP,
    everyMs: envNumber("OCFLEET_CLEANUP_EVERY_MS", DEFAULT_CLEANUP.everyMs),
    sessionGraceMs: envNumber("OCFLEET_SESSION_CLEANUP_GRACE_MS", DEFAULT_CLEANUP.sessionGraceMs),
    streamChunkRetentionMs: envNumber("OCFLEET_STREAM_CHUNK_RETENTION_MS", DEFAULT_CLEANUP.streamChunkRetentionMs),
  };
  const { live, dispatcher, fleet, chat, jobs, hub, bindMembership, notifier } = wireDaemonCore({
    db,
    paths,
    log,
    secrets,
    authPolicy,
    startedAt,
    chat: {
      maxRetries: envNumber("OCFLEET_CHAT_MAX_RETRIES", 3),
      inactiveAfterMs: envNumber("OCFLEET_CHAT_INACTIVE_AFTER_MS", 5 * 60_000),
      stallMs: envNumber("OCFLEET_TURN_STALL_MS", DEFAULT_STALL_MS),
    },
    cleanup,
    link: {
      pingEveryMs: envNumber("OCFLEET_LINK_PING_MS", 5000),
      commandTimeoutMs: envNumber("OCFLEET_LINK_COMMAND_TIMEOUT_MS", 60_000),
      offlineAfterMs: envNumber("OCFLEET_MACHINE_OFFLINE_MS", 15_000),
    },
    process: {
      listenAddress: () => server?.address ?? { host: "127.0.0.1", port: 0 },
      connectionStats: () => server?.stats() ?? { connections: 0, subscriptions: 0 },
      requestStop: (reason) => setImmediate(() => void stop(reason, 0)),
    },
  });
  chat.recover();
  chat.startSweeps();

  // This machine's agent, linked to this daemon's own hub in process.
  const machineId = dispatcher.runInternalMutation(registerLocalMachine, machineFacts());
  dispatcher.runInternalMutation(resetRuntimes, { machineId, reason: "daemon starting" });
  const link = createInProcessLink(machineId, (from, report) => fleet.receive(from, report));
  // The agent reports to, and is commanded by, this daemon's own hub, or a remote hub once it joined one.
  const agentLink = new AgentLinkSwitch(link.agent);
  const agent = new Agent({
    db,
    log,
    link: agentLink,
    logDir: join(paths.home, "workers"),
    agentMark: agentMarkOf(realpathSync(paths.home)),
    workerUmask: userUmask,
    backoffMs: envNumber("OCFLEET_WORKER_BACKOFF_MS", 1000),
    heartbeatMs: envNumber("OCFLEET_HEARTBEAT_MS", 5000),
    eventsRetryMs: envNumber("OCFLEET_EVENTS_RETRY_MS", 2000),
    isolateWorkers: process.env.OCFLEET_ISOLATE_WORKERS === "1",
  });
  const membership = new Membership({
    home: paths.home,
    db,
    run: { runQuery: (def, args) => dispatcher.runInternalQuery(def, args), runMutation: (def, args) => dispatcher.runInternalMutation(def, args) },
    secrets,
    log,
    fleet,
    agent,
    agentLink,
    local: { machineId, hub: link.hub, agent: link.agent },
    backoffMs: envNumber("OCFLEET_LINK_BACKOFF_MS", 500),
    stopWorkersMs: WORKERS_STOP_MS,
  });
  bindMembership(membership);
  membership.start();
  agent.start();
  fleet.startOfflineSweep();
  jobs.start();

  // The same callers and sessions on both listeners: loopback (this machine's clients) and, once enabled, the hub's network one.
  const connections = {
    dispatcher,
    log,
    findSession: (sessionToken: string) => findSessionByToken(db, secrets, sessionToken, Date.now()),
    resolveSession: (id: SessionId) => {
      const resolved = resolveSession(db, authPolicy, id, Date.now());
      // A slid expiry shows in the user's session list; who the caller is did not change.
      if ("touched" in resolved && resolved.touched) live.changed([[SESSIONS_TABLE, userSessionsKey(resolved.user.id)]]);
      return resolved;
    },
  };
  server = await FleetServer.start({ host: "127.0.0.1", port: 0, token, ...connections });
  hub.bindConnections(connections);
  await hub.restore();

  const state: DaemonStateFile = {
    pid: process.pid,
    host: server.address.host,
    port: server.address.port,
    version: PACKAGE_VERSION,
    protocol: PROTOCOL_VERSION,
    token,
    startedAt,
  };
  writePrivateFileAtomic(paths.stateFile, JSON.stringify(state, null, 2) + "\n");
  log.info("daemon started", {
    pid: process.pid,
    version: PACKAGE_VERSION,
    node: process.versions.node,
    sqliteDriver: driverPackage,
    port: state.port,
    home: paths.home,
  });

  const stop = (reason: string, exitCode: number): Promise<void> => {
    stopping ??= (async () => {
      log.info("daemon stopping", { reason });
      const budget = setTimeout(() => {
        log.error("graceful stop took too long; exiting now");
        agent.killRemaining("left when the stop took too long");
        process.exit(exitCode || 1);
      }, SHUTDOWN_BUDGET_MS);
      budget.unref();
      await server!.close();
      membership.stop();
      await hub.close();
      const drained = await dispatcher.drain(DRAIN_MS);
      if (!drained) log.warn("some calls were still running at shutdown");
      fleet.stop();
      jobs.stop();
      chat.interruptAll("the daemon stopped during the reply");
      chat.stop();
      await notifier.stop();
      await agent.shutdown(WORKERS_STOP_MS);
      dispatcher.runInternalMutation(markOffline, { machineId, reason: "daemon stopped" });
      db.close();
      // Only remove the state file if it is still ours: a new daemon may already have replaced it.
      if (readStateFile(paths.stateFile)?.pid === process.pid) rmSync(paths.stateFile, { force: true });
      log.info("daemon stopped", { pid: process.pid });
      log.close();
      process.exit(exitCode);
    })();
    return stopping;
  };

  onSignal = (reason) => void stop(reason, 0);
  if (earlySignal) onSignal(earlySignal);
  process.on("uncaughtException", (err) => {
    log.error("uncaught exception", { error: err });
    void stop("uncaught exception", 1);
  });
  process.on("unhandledRejection", (reason) => log.error("unhandled rejection", { error: reason }));
}
