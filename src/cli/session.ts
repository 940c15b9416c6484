// Running a command against the daemon: connect (starting it if needed, with progress),
// run, close, and turn any error into one line and an exit code.
import { connectToDaemon, type DaemonConnectOptions } from "../client/daemon.js";
import type { FleetConnection } from "../client/connection.js";
import { FleetClient } from "../client/client.js";
import { selectedHub } from "../client/hubs.js";
import { resolveStateDir } from "../protocol/statefile.js";
import { reportError } from "./output.js";
import { startProgress } from "./progress.js";

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
  process.stderr.write(`ocfleet: ${message}\n`);
}

/** Connects, starting the daemon if needed and (by default) signing in as described in client/daemon.ts. */
export async function openDaemonConnection(options: CommandOptions, signIn: DaemonConnectOptions["signIn"] = "auto"): Promise<FleetConnection> {
  // --hub URL (or OCFLEET_HUB): a remote hub over wss, signed in with `login --hub` before.
  const hub = selectedHub();
  if (hub) {
    const { connectToHub } = await import("../client/hub-connect.js");
    return connectToHub({ home: stateDir(), url: hub, clientName: "ocfleet-cli", onNotice: notice });
  }
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

/**
 * For watch commands: a client that reconnects when the daemon restarts. Resolves when the user
 * interrupts (Ctrl-C) or `until` settles.
 */
export async function watchWithDaemon(options: CommandOptions, body: (client: FleetClient, onStatus: (line: string) => void) => void): Promise<void> {
  await runCommand(options, async () => {
    const home = stateDir();
    const connection = await openDaemonConnection(options);
    // Reconnects present the saved credential too: a restarted daemon still knows the session.
    const client = new FleetClient(connection, () =>
      selectedHub() ? openDaemonConnection(options) : connectToDaemon({ home, autoStart: false, clientName: "ocfleet-cli", onNotice: notice }),
    );
    const status = (line: string) => {
      if (!options.json) process.stderr.write(`${line}\n`);
    };
    client.onStateChange((state) => {
      if (state.status === "reconnecting" && state.attempt === 0) status("ocfleet: lost the daemon; reconnecting…");
      if (state.status === "open") status("ocfleet: reconnected");
    });
    body(client, status);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    client.close();
  });
}
