// Running a command against the daemon: connect (starting it if needed, with progress),
// run, close, and turn any error into one line and an exit code.
import type { DaemonConnectOptions } from "../client/daemon.js";
import type { FleetConnection } from "../client/connection.js";
import { selectedHub } from "../client/hubs.js";
import { resolveStateDir } from "../protocol/statefile.js";
import { reportError } from "./output.js";
import { startProgress } from "./progress.js";
import { sanitize } from "../terminal/sanitize.js";

export interface CommandOptions {
  json?: boolean;
}

export function stateDir(): string {
  return resolveStateDir();
}

/** Runs `body` and sets the exit code from how it ended. */
export async function runCommand(options: CommandOptions, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    process.exitCode = reportError(err, options.json === true);
  }
}

/** Connects to the daemon (auto-starting it), runs `body`, then closes the connection. */
export async function withDaemon(options: CommandOptions, body: (connection: FleetConnection) => Promise<void>): Promise<void> {
  await runCommand(options, async () => {
    const connection = await openDaemonConnection(options);
    try {
      await body(connection);
    } finally {
      connection.close();
    }
  });
}

/** Notes for the user that are not the command's output (stderr, so --json stays clean). */
export function notice(message: string): void {
  process.stderr.write(`ocfleet: ${sanitize(message)}\n`);
}

/**
 * Connects, starting the daemon if needed and (by default) signing in as described in client/daemon.ts.
 * The daemon is the hub chosen (client/hubs.ts: --hub, OCFLEET_HUB, or the hub this machine joined),
 * unless the command is about this machine itself (`thisMachine`: its daemon, its membership).
 */
export async function openDaemonConnection(
  options: CommandOptions,
  signIn: DaemonConnectOptions["signIn"] = "auto",
  where: { thisMachine?: boolean } = {},
): Promise<FleetConnection> {
  // A remote hub over wss, signed in with `login --hub` before.
  const hub = where.thisMachine ? null : selectedHub();
  if (hub) {
    const { connectToHub } = await import("../client/hub-connect.js");
    return connectToHub({ home: stateDir(), url: hub, clientName: "ocfleet-cli", onNotice: notice });
  }
  // Loaded here, not with this file: commands that never connect (version, help) start without it.
  const { connectToDaemon } = await import("../client/daemon.js");
  const progress = startProgress(options.json !== true);
  const delayed = setTimeout(() => progress.update("connecting to the ocfleet daemon…"), 300);
  try {
    return await connectToDaemon({
      home: stateDir(),
      autoStart: true,
      clientName: "ocfleet-cli",
      signIn,
      onProgress: (message) => progress.update(message),
      onNotice: (message) => {
        progress.stop();
        notice(message);
      },
    });
  } finally {
    clearTimeout(delayed);
    progress.stop();
  }
}
