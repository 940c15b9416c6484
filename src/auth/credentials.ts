// Where a client keeps its session tokens, one per hub: the OS keychain when one works, else a
// 0600 file in the state directory (said plainly, once). OCFLEET_CREDENTIALS=file|keyring forces
// the choice. The keychain module is loaded only when it is used, and whether the keychain works
// is probed once per state directory, in a child process that can be killed when D-Bus hangs.
import { chmodSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { ensurePrivateDir, writePrivateFileAtomic } from "../platform/files.js";

export interface StoredCredential {
  sessionId: string;
  token: string;
  /** Who it signs in as, for messages only. */
  userName?: string;
  savedAt: number;
}

export type CredentialBackend = "keyring" | "file";

export interface CredentialStore {
  readonly backend: CredentialBackend;
  /** Where the file lives (file backend), for messages. */
  readonly location: string;
  get(hub: string): Promise<StoredCredential | null>;
  set(hub: string, credential: StoredCredential): Promise<void>;
  /** True if there was one to delete. */
  delete(hub: string): Promise<boolean>;
}

export interface CredentialStoreOptions {
  env?: NodeJS.ProcessEnv;
  /** Things the user should hear once, such as the plain-text warning. */
  onNotice?: (message: string) => void;
}

const SERVICE = "ocfleet";
const FILE_NAME = "credentials.json";
const PROBE_CACHE_NAME = "credential-store.json";
const DEFAULT_PROBE_TIMEOUT_MS = 3000;
/** Keychain calls after a good probe still get a bound: a stuck keychain must not hang a command. */
const KEYRING_CALL_TIMEOUT_MS = 5000;

/** The key under which the local daemon's credential is kept. Remote hubs use their URL. */
export function localHubKey(home: string): string {
  return `local:${resolve(home)}`;
}

export async function openCredentialStore(home: string, options: CredentialStoreOptions = {}): Promise<CredentialStore> {
  const env = options.env ?? process.env;
  const forced = env.OCFLEET_CREDENTIALS;
  if (forced === "file") return fileStore(home);
  if (forced === "keyring") return keyringStore();
  if (forced !== undefined && forced !== "") throw new Error(`OCFLEET_CREDENTIALS must be 'file' or 'keyring', not '${forced}'`);
  const probe = await probeOnce(home, env);
  if (probe.backend === "keyring") return keyringStore();
  if (probe.fresh) {
    options.onNotice?.(
      `no usable OS keychain (${probe.reason}); your sign-in is kept in plain text in ${join(home, FILE_NAME)}, ` +
        "readable only by you. Set OCFLEET_CREDENTIALS=file to choose this and silence this note.",
    );
  }
  return fileStore(home);
}

// ---- the file backend -------------------------------------------------------------------------

interface CredentialFile {
  version: 1;
  hubs: Record<string, StoredCredential>;
}

function readCredentialFile(path: string): CredentialFile {
  let raw: string;
  try {
    raw = readFileSync(path, "utf8");
  } catch {
    return { version: 1, hubs: {} };
  }
  // Keep it private even if something widened it since.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  try {
    const parsed = JSON.parse(raw) as Partial<CredentialFile>;
    return { version: 1, hubs: typeof parsed.hubs === "object" && parsed.hubs !== null ? parsed.hubs : {} };
  } catch {
    // A damaged file only costs a new sign-in.
    return { version: 1, hubs: {} };
  }
}

function fileStore(home: string): CredentialStore {
  const path = join(home, FILE_NAME);
  const write = (file: CredentialFile) => {
    ensurePrivateDir(home);
    writePrivateFileAtomic(path, JSON.stringify(file, null, 2) + "\n");
  };
  return {
    backend: "file",
    location: path,
    get: async (hub) => validCredential(readCredentialFile(path).hubs[hub]),
    set: async (hub, credential) => {
      const file = readCredentialFile(path);
      file.hubs[hub] = credential;
      write(file);
    },
    delete: async (hub) => {
      const file = readCredentialFile(path);
      if (!(hub in file.hubs)) return false;
      delete file.hubs[hub];
      write(file);
      return true;
    },
  };
}

function validCredential(value: unknown): StoredCredential | null {
  const c = value as Partial<StoredCredential> | null | undefined;
  return c && typeof c.token === "string" && typeof c.sessionId === "string" ? (c as StoredCredential) : null;
}

// ---- the keychain backend ---------------------------------------------------------------------

type KeyringModule = typeof import("@napi-rs/keyring");

/** On Linux only the Secret Service counts: the kernel keyring forgets everything at reboot. */
const ENTRY_OPTIONS = process.platform === "linux" ? { linux: { store: "secret-service" as const } } : undefined;

function loadKeyring(): KeyringModule {
  return createRequire(import.meta.url)("@napi-rs/keyring") as KeyringModule;
}

/** Runs a keychain call with a time bound, turning its failures into one line that says what to do. */
async function withTimeout<T>(work: (signal: AbortSignal) => Promise<T>, what: string): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(
        new Error(`the OS keychain did not answer (${what}) within ${KEYRING_CALL_TIMEOUT_MS / 1000} s; set OCFLEET_CREDENTIALS=file to use a file instead`),
      );
    }, KEYRING_CALL_TIMEOUT_MS);
  });
  try {
    // The work starts inside the promise chain, so a synchronous throw is a rejection like any other.
    return await Promise.race([Promise.resolve().then(() => work(controller.signal)), timeout]);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (reason.startsWith("the OS keychain")) throw err;
    throw new Error(`the OS keychain failed to ${what} (${probeFailure(reason) || reason}); set OCFLEET_CREDENTIALS=file to use a file instead`);
  } finally {
    clearTimeout(timer);
  }
}

function keyringStore(): CredentialStore {
  const keyring = loadKeyring();
  const entry = (hub: string) => new keyring.AsyncEntry(SERVICE, hub, ENTRY_OPTIONS);
  return {
    backend: "keyring",
    location: `the OS keychain (service "${SERVICE}")`,
    get: async (hub) => {
      const raw = await withTimeout((signal) => entry(hub).getPassword(signal), "read");
      if (!raw) return null;
      try {
        return validCredential(JSON.parse(raw));
      } catch {
        return null;
      }
    },
    set: (hub, credential) => withTimeout((signal) => entry(hub).setPassword(JSON.stringify(credential), signal), "write"),
    delete: (hub) => withTimeout((signal) => entry(hub).deleteCredential(signal), "delete"),
  };
}

// ---- probing the keychain, once per state directory -------------------------------------------

interface ProbeOutcome {
  backend: CredentialBackend;
  reason: string;
  probedAt: number;
}

function probeTimeoutMs(env: NodeJS.ProcessEnv): number {
  const value = Number(env.OCFLEET_KEYRING_PROBE_TIMEOUT_MS);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_PROBE_TIMEOUT_MS;
}

async function probeOnce(home: string, env: NodeJS.ProcessEnv): Promise<ProbeOutcome & { fresh: boolean }> {
  const cachePath = join(home, PROBE_CACHE_NAME);
  try {
    const cached = JSON.parse(readFileSync(cachePath, "utf8")) as Partial<ProbeOutcome>;
    if (cached.backend === "keyring" || cached.backend === "file") return { ...(cached as ProbeOutcome), fresh: false };
  } catch {
    // not probed yet
  }
  const outcome = await probeKeyring(env);
  ensurePrivateDir(home);
  writePrivateFileAtomic(cachePath, JSON.stringify(outcome, null, 2) + "\n");
  return { ...outcome, fresh: true };
}

/**
 * Stores, reads back and deletes a throw-away entry in a child process. A D-Bus call can block
 * forever inside the native module, where no timer can reach it; a child process can be killed.
 */
export async function probeKeyring(env: NodeJS.ProcessEnv = process.env): Promise<ProbeOutcome> {
  const probedAt = Date.now();
  let modulePath: string;
  try {
    modulePath = createRequire(import.meta.url).resolve("@napi-rs/keyring");
  } catch {
    return { backend: "file", reason: "the keychain module is not installed", probedAt };
  }
  const script = `
    const { Entry } = require(${JSON.stringify(modulePath)});
    const entry = new Entry("${SERVICE}", "probe-" + process.pid, ${JSON.stringify(ENTRY_OPTIONS ?? null)} ?? undefined);
    entry.setPassword("probe");
    const same = entry.getPassword() === "probe";
    entry.deleteCredential();
    process.stdout.write(same ? "ok" : "the keychain did not return what was stored");
  `;
  const { spawn } = await import("node:child_process");
  const timeoutMs = probeTimeoutMs(env);
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ["-e", script], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish({ backend: "file", reason: `the keychain did not answer within ${Math.round(timeoutMs / 100) / 10} s`, probedAt });
    }, timeoutMs);
    let done = false;
    const finish = (outcome: ProbeOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolvePromise(outcome);
    };
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("error", (error) => finish({ backend: "file", reason: error.message, probedAt }));
    child.on("close", (code) => {
      if (code === 0 && out === "ok") return finish({ backend: "keyring", reason: "the keychain works", probedAt });
      finish({ backend: "file", reason: probeFailure(out || err) || `the probe exited with code ${code}`, probedAt });
    });
  });
}

/** The probe's error in a few words: the native module's messages are long and nested. */
function probeFailure(output: string): string {
  const line = output.split("\n").find((l) => /error|failure/i.test(l)) ?? output.split("\n")[0] ?? "";
  if (/dbus|d-bus/i.test(line)) return "no Secret Service reachable on the D-Bus session bus";
  return line
    .replace(/^\s*(Error: )+/, "")
    .trim()
    .slice(0, 200);
}

/** Keeps a new sign-in's session for this state directory's hub, replacing the previous one. */
export async function rememberSignIn(
  home: string,
  result: { session: { id: string; token: string }; user: { name: string } },
  options: CredentialStoreOptions = {},
): Promise<void> {
  const store = await openCredentialStore(home, options);
  await store.set(localHubKey(home), { sessionId: result.session.id, token: result.session.token, userName: result.user.name, savedAt: Date.now() });
}
