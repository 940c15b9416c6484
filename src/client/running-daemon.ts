// Connecting to the daemon that runs now, and nothing more: `ocfleet version` needs only this, so it
// lives apart from client/daemon.ts (starting, replacing and signing in load much more code).
import { readStateFile, statePaths, type DaemonStateFile } from "../protocol/statefile.js";
import { FleetConnection } from "./connection.js";

export async function openWith(state: DaemonStateFile, clientName?: string, session?: string): Promise<FleetConnection> {
  return FleetConnection.open({ host: state.host, port: state.port, token: state.token, clientName, session });
}

/** Connects to the daemon that is running now, or returns null. Never starts one. */
export async function connectToRunningDaemon(home: string, clientName?: string): Promise<FleetConnection | null> {
  const state = readStateFile(statePaths(home).stateFile);
  if (!state) return null;
  try {
    return await openWith(state, clientName);
  } catch {
    return null;
  }
}
