// The user's defaults for the command line: a JSON file at $XDG_CONFIG_HOME/ocfleet/config.json
// (~/.config/ocfleet/config.json), read by commands that take --worker or --model, and the worker a
// command uses when none is named.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { FleetConnection } from "../client/connection.js";
import { api } from "../protocol/api/index.js";
import { CliError } from "./output.js";

/** The settings, what each holds, and how a value is checked. */
export const CONFIG_KEYS = {
  worker: { help: "the worker used when a command names none (a name or id)", check: (v: string) => v.trim().length > 0 },
  model: { help: "the model for new chats when --model is not given (provider/model)", check: (v: string) => /^[^/\s]+\/\S+$/.test(v) },
  notification: {
    help: "how to be told that a reply ended or a request waits: none, bell or desktop",
    check: (v: string) => ["none", "bell", "desktop"].includes(v),
  },
  hub: { help: "the hub to use (its URL), for when this machine joins one", check: (v: string) => /^(wss?|https?):\/\/\S+$/.test(v) },
} as const;

export type ConfigKey = keyof typeof CONFIG_KEYS;
export type Config = Partial<Record<ConfigKey, string>>;

export function configPath(): string {
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "ocfleet", "config.json");
}

export function readConfig(): Config {
  let text: string;
  try {
    text = readFileSync(configPath(), "utf8");
  } catch {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${configPath()} is not valid JSON; fix it, or remove it to start over`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new CliError(`${configPath()} must hold a JSON object`);
  const config: Config = {};
  for (const [key, value] of Object.entries(parsed)) if (key in CONFIG_KEYS && typeof value === "string") config[key as ConfigKey] = value;
  return config;
}

export function writeConfig(config: Config): void {
  const path = configPath();
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`);
  renameSync(temporary, path);
}

export function checkConfigKey(key: string): ConfigKey {
  if (key in CONFIG_KEYS) return key as ConfigKey;
  throw new CliError(`<key>: no setting '${key}'; the settings are ${Object.keys(CONFIG_KEYS).join(", ")}`, 2);
}

/**
 * The worker a command uses: --worker, else the configured default, else the only worker you can
 * use; with several and no default, a usage error that says how to choose.
 */
export async function chooseWorker(connection: FleetConnection, given: string | undefined): Promise<string> {
  if (given) return given;
  const configured = readConfig().worker;
  if (configured) return configured;
  const workers = await connection.call(api.workers.list, {});
  if (workers.length === 1) return workers[0]!.id;
  if (workers.length === 0) throw new CliError("no worker yet; add one with: ocfleet worker add <directory>", 2);
  throw new CliError(`--worker: you have ${workers.length} workers; name one, or set a default: ocfleet config set worker <worker>`, 2);
}

/** --model, else the configured default model (undefined: the worker's own default). */
export function chooseModel(given: string | undefined): string | undefined {
  return given ?? readConfig().model;
}
