// Connecting the TUI to its daemon, kept apart from the Ink app so it can run while the app's
// code loads. Starts the daemon if needed and signs in as the machine's owner on first use.
import { FleetClient } from "../client/client.js";
import type { FleetConnection } from "../client/connection.js";
import { connectToDaemon } from "../client/daemon.js";
import { selectedHub } from "../client/hubs.js";
import { api } from "../protocol/api/index.js";
import { resolveStateDir } from "../protocol/statefile.js";

export interface TuiConnection {
  home: string;
  client: FleetClient;
}

export async function connectForTui(): Promise<TuiConnection> {
  const home = resolveStateDir();
  const notices: string[] = [];
  // The hub chosen (--hub, OCFLEET_HUB, or the one this machine joined), else this machine's daemon.
  const hub = selectedHub(process.env, home);
  const open = async (autoStart: boolean) =>
    hub
      ? (await import("../client/hub-connect.js")).connectToHub({ home, url: hub, clientName: "ocfleet-tui", onNotice: (message) => notices.push(message) })
      : connectToDaemon({ home, autoStart, clientName: "ocfleet-tui", onNotice: (message) => notices.push(message) });
  let connection: FleetConnection;
  const typedAhead = holdKeys();
  try {
    process.stderr.write(hub ? `connecting to the hub at ${hub}…` : "connecting to the ocfleet daemon…");
    connection = await open(true);
  } catch (err) {
    typedAhead.release(false);
    throw err;
  } finally {
    process.stderr.write("\r\x1b[2K");
  }
  typedAhead.release(true);
  if (notices.length > 0) process.stderr.write(`${notices.map((n) => `ocfleet: ${n}`).join("\n")}\n`);
  const client = new FleetClient(connection, () => open(false));
  // What the first screen shows, asked for now, so it is there when the app's first frame draws.
  client.prefetch(api.auth.whoami, {});
  client.prefetch(api.chat.pending, {});
  client.prefetch(api.machines.list, {});
  client.prefetch(api.workers.list, {});
  client.prefetch(api.chat.list, {});
  return { home, client };
}

/**
 * Keys typed while connecting: raw mode at once, so they are neither echoed over the screen nor
 * lost at the switch; the terminal holds them until the app reads input. (Nothing reads them
 * here: a stream read before Ink's own reader starts can stall it.)
 */
function holdKeys(): { release(forApp: boolean): void } {
  const stdin = process.stdin;
  if (!stdin.isTTY) return { release() {} };
  stdin.setRawMode(true);
  // Should the app never start (its code fails to load), the shell still gets a cooked terminal.
  process.once("exit", () => stdin.isTTY && stdin.setRawMode(false));
  return {
    release(forApp) {
      if (!forApp) stdin.setRawMode(false);
    },
  };
}
