// The ocfleet command: a commander program with one file per command group.
import { Command, CommanderError } from "./commander.js";
import { PACKAGE_VERSION } from "../protocol/version.js";
import { reportError } from "./output.js";
// Bundled with the entry, not loaded on demand: the quickest command should not wait for a chunk.
import { registerVersionCommand } from "./commands/version.js";

type Registrar = (program: Command) => void;

/**
 * The command groups, by the top-level words they own, loaded on demand: a command loads only
 * its own group (each is a separate chunk); help, and a word nobody owns, load them all.
 */
const GROUPS: Array<{ words: string[]; load(): Promise<Registrar> }> = [
  { words: ["version"], load: async () => registerVersionCommand },
  { words: ["daemon"], load: async () => (await import("./commands/daemon.js")).registerDaemonCommands },
  { words: ["whoami", "login", "logout", "auth"], load: async () => (await import("./commands/auth.js")).registerAuthCommands },
  { words: ["worker"], load: async () => (await import("./commands/worker.js")).registerWorkerCommands },
  { words: ["chat"], load: async () => (await import("./commands/chat.js")).registerChatCommands },
  { words: ["run"], load: async () => (await import("./commands/run.js")).registerRunCommand },
  { words: ["config"], load: async () => (await import("./commands/config.js")).registerConfigCommands },
  { words: ["completion", "__complete"], load: async () => (await import("./completion.js")).registerCompletionCommands },
  { words: ["machine"], load: async () => (await import("./commands/machine.js")).registerMachineCommands },
  { words: ["hub"], load: async () => (await import("./commands/hub.js")).registerHubCommands },
  { words: ["admin"], load: async () => (await import("./commands/admin.js")).registerAdminCommands },
  { words: ["checklist"], load: async () => (await import("./commands/checklist.js")).registerChecklistCommands },
  { words: ["attendance"], load: async () => (await import("./commands/attendance.js")).registerAttendanceCommands },
  { words: ["discuss"], load: async () => (await import("./commands/discuss.js")).registerDiscussCommands },
  { words: ["present"], load: async () => (await import("./commands/present.js")).registerPresentCommands },
  { words: ["schedule"], load: async () => (await import("./commands/schedule.js")).registerScheduleCommands },
  { words: ["usage"], load: async () => (await import("./commands/usage.js")).registerUsageCommands },
  { words: ["budget"], load: async () => (await import("./commands/budget.js")).registerBudgetCommands },
  { words: ["notify"], load: async () => (await import("./commands/notify.js")).registerNotifyCommands },
];

export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command("ocfleet")
    .description("Run and steer OpenCode coding agents on all your machines")
    .version(PACKAGE_VERSION, "-V, --version", "print the version number")
    // Also before the command word (`ocfleet --json worker list`); each command reads it with its own.
    .option("--json", "print JSON (every command that reads takes it)")
    .showSuggestionAfterError(true)
    .exitOverride();
  const word = argv.find((arg) => !arg.startsWith("-"));
  // Completing a command line needs every command (__complete walks the whole tree).
  const own = word === "__complete" ? GROUPS : GROUPS.filter((group) => word !== undefined && group.words.includes(word));
  // `ocfleet --version` needs no command; help and unknown words need them all.
  const versionOnly = word === undefined && argv.some((arg) => arg === "-V" || arg === "--version");
  const registrars = await Promise.all((own.length > 0 ? own : versionOnly ? [] : GROUPS).map((group) => group.load()));
  for (const register of registrars) register(program);
  return program;
}

/**
 * Ink draws nothing until exit when it believes it runs in CI, and it reads CI and
 * CONTINUOUS_INTEGRATION once, as it loads. Both ends are terminals here, so the app is
 * interactive whatever those say: they are hidden while Ink loads, and only then.
 */
async function importTuiInteractively(): Promise<typeof import("../tui/main.js")> {
  const hidden = ["CI", "CONTINUOUS_INTEGRATION"].filter((name) => name in process.env).map((name) => [name, process.env[name]] as const);
  for (const [name] of hidden) delete process.env[name];
  // Yoga's wasm loader asks `typeof fetch` though its wasm is inline; on Node that question loads
  // undici (~100 ms of CPU on a loaded machine) for nothing. Hide the lazy getter while Ink loads.
  const fetchProperty = Object.getOwnPropertyDescriptor(globalThis, "fetch");
  if (fetchProperty?.configurable) Object.defineProperty(globalThis, "fetch", { value: undefined, configurable: true, writable: true });
  try {
    return await import("../tui/main.js");
  } finally {
    for (const [name, value] of hidden) process.env[name] = value;
    if (fetchProperty?.configurable) Object.defineProperty(globalThis, "fetch", fetchProperty);
  }
}

/**
 * `--hub URL` anywhere on the line chooses the hub every command talks to (as OCFLEET_HUB does;
 * `--hub local` this machine's own daemon). Taken out before commander sees the rest.
 */
function takeHubOption(argv: string[]): string[] {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === "--hub" && i + 1 < argv.length) process.env.OCFLEET_HUB = argv[++i];
    else if (arg.startsWith("--hub=")) process.env.OCFLEET_HUB = arg.slice("--hub=".length);
    else rest.push(arg);
  }
  return rest;
}

export async function main(argv: string[]): Promise<void> {
  // `ocfleet --hub URL` alone opens the TUI on that hub.
  argv = takeHubOption(argv);
  if (argv.length === 0) {
    if (process.stdin.isTTY && process.stdout.isTTY) {
      // Ink and React load only here: every other command starts without them.
      try {
        // Load the TUI while connecting to the daemon: the two waits overlap.
        const tui = importTuiInteractively();
        const { connectForTui } = await import("../tui/connect.js");
        const connection = connectForTui();
        const { runTui } = await tui;
        await runTui(await connection);
      } catch (err) {
        process.exitCode = reportError(err, false);
      }
      return;
    }
    (await buildProgram()).outputHelp();
    return;
  }
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed the message; usage errors exit 2, help and version 0.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    throw err;
  }
}
