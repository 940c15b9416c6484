// Where a daemon lives on disk, and the daemon.json through which clients find it and prove who they are.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface DaemonStateFile {
  pid: number;
  host: string;
  port: number;
  version: string;
  protocol: number;
  /** Fresh at every start; reading it (mode 0600) proves the caller is the same OS user. */
  token: string;
  startedAt: number;
}

export interface StatePaths {
  home: string;
  db: string;
  stateFile: string;
  log: string;
  /** A Unix socket that is held while a daemon runs: the socket is the lock. */
  lock: string;
  secretKey: string;
}

/** OCFLEET_HOME, else $XDG_STATE_HOME/ocfleet, else ~/.local/state/ocfleet. */
export function resolveStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OCFLEET_HOME) return env.OCFLEET_HOME;
  const xdgState = env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return join(xdgState, "ocfleet");
}

export function statePaths(home: string): StatePaths {
  return {
    home,
    db: join(home, "state.db"),
    stateFile: join(home, "daemon.json"),
    log: join(home, "daemon.log"),
    lock: join(home, "daemon.sock"),
    secretKey: join(home, "secret.key"),
  };
}

/** The state file if it exists and is well formed, else null. */
export function readStateFile(path: string): DaemonStateFile | null {
  let raw: string;
  try {
    raw = readFileSync(path, "utf8");
  } catch {
    return null;
  }
  try {
    const parsed = JSON.parse(raw) as Partial<DaemonStateFile>;
    const wellFormed =
      Number.isInteger(parsed.pid) &&
      Number.isInteger(parsed.port) &&
      typeof parsed.host === "string" &&
      typeof parsed.version === "string" &&
      typeof parsed.token === "string" &&
      Number.isInteger(parsed.protocol);
    return wellFormed ? (parsed as DaemonStateFile) : null;
  } catch {
    return null;
  }
}
