// Remote hubs this client trusts: each hub's URL and the certificate fingerprint pinned for it
// (from the user's confirmation or --fingerprint), kept in hubs.json (0600) in the state directory;
// and which hub a command talks to: --hub / OCFLEET_HUB, else the hub this machine joined.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ensurePrivateDir, writePrivateFileAtomic } from "../platform/files.js";
import { resolveStateDir } from "../protocol/statefile.js";

export function hubsPath(home: string): string {
  return join(home, "hubs.json");
}

/** A hub URL as it is stored and used as a credential key: wss://host:port, no trailing slash. */
export function normalizeHubUrl(url: string): string {
  const trimmed = url.trim().replace(/\/+$/, "");
  if (!/^wss:\/\/[^/\s]+$/.test(trimmed)) throw new Error(`'${url}' is not a hub address; it looks like wss://host:port (see: ocfleet hub status on the hub)`);
  return trimmed;
}

function readAll(home: string): Record<string, { fingerprint: string; pinnedAt: number }> {
  try {
    return JSON.parse(readFileSync(hubsPath(home), "utf8")) as Record<string, { fingerprint: string; pinnedAt: number }>;
  } catch {
    return {};
  }
}

/** A hub's pinned fingerprint: the one confirmed or given, else (for the hub this machine joined) the invite's. */
export function pinnedFingerprint(home: string, url: string): string | null {
  const joined = joinedHub(home);
  return readAll(home)[url]?.fingerprint ?? (joined?.url === url ? joined.fingerprint : null);
}

export function pinFingerprint(home: string, url: string, fingerprint: string): void {
  ensurePrivateDir(home);
  const all = readAll(home);
  all[url] = { fingerprint, pinnedAt: Date.now() };
  writePrivateFileAtomic(hubsPath(home), `${JSON.stringify(all, null, 2)}\n`);
}

/**
 * The hub this machine joined (`machine join`), as its daemon records it in `joined-hub.json` while
 * the membership lasts: its URL and the fingerprint the invite carried. Null when it joined none.
 */
export function joinedHub(home: string): { url: string; fingerprint: string } | null {
  try {
    const value = JSON.parse(readFileSync(joinedHubPath(home), "utf8")) as { url?: unknown; fingerprint?: unknown };
    return typeof value.url === "string" && typeof value.fingerprint === "string" ? { url: value.url, fingerprint: value.fingerprint } : null;
  } catch {
    return null;
  }
}

export function joinedHubPath(home: string): string {
  return join(home, "joined-hub.json");
}

/**
 * The hub chosen for this command: --hub (which sets OCFLEET_HUB) or OCFLEET_HUB, else the hub this
 * machine joined; null for this machine's own daemon (`--hub local`, or a machine that joined none).
 */
export function selectedHub(env: NodeJS.ProcessEnv = process.env, home: string = resolveStateDir(env)): string | null {
  const hub = env.OCFLEET_HUB?.trim();
  if (hub === "local") return null;
  if (hub) return normalizeHubUrl(hub);
  return joinedHub(home)?.url ?? null;
}
