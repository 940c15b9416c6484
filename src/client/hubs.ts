// Remote hubs this client trusts: each hub's URL and the certificate fingerprint pinned for it
// (from the user's confirmation or --fingerprint), kept in hubs.json (0600) in the state directory.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ensurePrivateDir, writePrivateFileAtomic } from "../platform/files.js";

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

export function pinnedFingerprint(home: string, url: string): string | null {
  return readAll(home)[url]?.fingerprint ?? null;
}

export function pinFingerprint(home: string, url: string, fingerprint: string): void {
  ensurePrivateDir(home);
  const all = readAll(home);
  all[url] = { fingerprint, pinnedAt: Date.now() };
  writePrivateFileAtomic(hubsPath(home), `${JSON.stringify(all, null, 2)}\n`);
}

/** The hub chosen for this command: --hub (which sets OCFLEET_HUB) or OCFLEET_HUB; null for this machine's own daemon. */
export function selectedHub(env: NodeJS.ProcessEnv = process.env): string | null {
  const hub = env.OCFLEET_HUB?.trim();
  if (!hub || hub === "local") return null;
  return normalizeHubUrl(hub);
}
