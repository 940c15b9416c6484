// ocfleet worker …: OpenCode servers bound to directories, supervised by the daemon.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "../commander.js";
import type { FleetConnection } from "../../client/connection.js";
import { api, type WorkerView } from "../../protocol/api/index.js";
import { CliError, formatDuration, formatTable, print, printJson, printJsonLine, style } from "../output.js";
import { startProgress } from "../progress.js";
import { watchWithDaemon, withDaemon } from "../session.js";
import { sanitizeInline } from "../../terminal/sanitize.js";

type JsonOption = { json?: boolean };

const STATE_STYLE: Record<WorkerView["runState"], (s: string) => string> = {
  starting: style.yellow,
  idle: style.green,
  active: style.cyan,
  offline: style.dim,
  error: style.red,
};

export function renderWorkers(workers: WorkerView[], now = Date.now()): string {
  if (workers.length === 0) return style.dim("no workers yet; add one with: ocfleet worker add <directory>");
  const rows = [["NAME", "MACHINE", "STATE", "PID", "UPTIME", "RESTARTS", "OWNER", "SHARED WITH", "DIRECTORY"].map(style.dim)];
  const reasons = new Map<number, string>();
  for (const w of workers) {
    rows.push([
      w.name,
      w.machineName,
      STATE_STYLE[w.runState](w.runState),
      w.pid === null ? "-" : String(w.pid),
      w.startedAt === null ? "-" : formatDuration(now - w.startedAt),
      String(w.restartCount),
      sanitizeInline(w.createdBy ?? "-"),
      sharedWith(w),
      w.directory,
    ]);
    if (w.reason && w.runState !== "idle" && w.runState !== "active") reasons.set(rows.length - 1, w.reason);
  }
  const lines = formatTable(rows).split("\n");
  return lines.map((line, i) => (reasons.has(i) ? `${line}\n${style.dim(`  ↳ ${reasons.get(i)!.split("\n").join("\n    ")}`)}` : line)).join("\n");
}

/** Who may chat on the worker besides its owner and admins. */
function sharedWith(w: WorkerView): string {
  if (w.sharedWithEveryone) return "everyone";
  return w.sharedWith.length === 0 ? "-" : w.sharedWith.map(sanitizeInline).join(", ");
}

/** Parses --env KEY=VALUE options and an --env-file of KEY=VALUE lines into one overlay. */
function parseEnv(pairs: string[], file: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  const add = (pair: string, where: string) => {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new CliError(`${where}: expected KEY=VALUE, got '${pair}'`, 2);
    env[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  };
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      throw new CliError(`cannot read --env-file ${file}`, 2);
    }
    text.split("\n").forEach((line, i) => {
      const trimmed = line.trim();
      if (trimmed && !trimmed.startsWith("#")) add(trimmed.replace(/^export\s+/, ""), `${file}:${i + 1}`);
    });
  }
  for (const pair of pairs) add(pair, "--env");
  return env;
}

/** Waits until the worker is idle, active or in error, showing its progress. */
async function waitUntilSettled(connection: FleetConnection, workerId: string, json: boolean, timeoutMs = 90_000): Promise<WorkerView> {
  const progress = startProgress(!json);
  try {
    return await new Promise<WorkerView>((resolveView, reject) => {
      const timer = setTimeout(() => {
        sub.unsubscribe();
        reject(new CliError(`the worker did not become ready within ${timeoutMs / 1000} s; see: ocfleet worker logs ${workerId}`));
      }, timeoutMs);
      const sub = connection.subscribe(
        api.workers.get,
        { worker: workerId },
        {
          onValue: (view) => {
            progress.update(`${view.name}: ${view.runState}${view.reason ? ` (${view.reason.split("\n")[0]})` : ""}`);
            if (view.runState === "idle" || view.runState === "active" || view.runState === "error") {
              clearTimeout(timer);
              sub.unsubscribe();
              resolveView(view);
            }
          },
          onError: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        },
      );
    });
  } finally {
    progress.stop();
  }
}

function reportSettled(view: WorkerView, json: boolean): void {
  if (json) printJson(view);
  else if (view.runState === "error") print(`${style.red("✗")} ${view.name} failed to start: ${view.reason ?? "unknown reason"}`);
  else print(`${style.green("✓")} ${view.name} is ${view.runState} (pid ${view.pid}, OpenCode ${view.opencodeVersion ?? "?"}) in ${view.directory}`);
  if (view.runState === "error") process.exitCode = 1;
}

export function registerWorkerCommands(program: Command): void {
  const worker = program.command("worker").description("OpenCode workers: one server per directory, supervised by the daemon");

  worker
    .command("add <directory>")
    .description("register a worker for a directory and start it")
    .option("--name <name>", "a short name (default: the directory's name)")
    .option("--machine <machine>", "the machine to run it on (default: this one)")
    .option("--env <KEY=VALUE>", "add to the worker's environment (repeatable)", (value: string, all: string[]) => [...all, value], [] as string[])
    .option("--env-file <file>", "read KEY=VALUE lines into the worker's environment")
    .option("--opencode-bin <path>", "use this OpenCode binary for the worker")
    .option("--no-wait", "return once registered instead of waiting until it is ready")
    .option("--json", "print JSON")
    .action(
      (directory: string, options: { name?: string; machine?: string; env: string[]; envFile?: string; opencodeBin?: string; wait: boolean; json?: boolean }) =>
        withDaemon(options, async (connection) => {
          if (options.machine && !directory.startsWith("/")) throw new CliError("give an absolute directory for a worker on another machine", 2);
          const env = parseEnv(options.env, options.envFile);
          const added = await connection.call(api.workers.add, {
            directory: options.machine ? directory : resolve(directory),
            ...(options.name ? { name: options.name } : {}),
            ...(options.machine ? { machine: options.machine } : {}),
            ...(Object.keys(env).length > 0 ? { env } : {}),
            ...(options.opencodeBin ? { opencodeBinary: resolve(options.opencodeBin) } : {}),
          });
          if (!options.wait) {
            if (options.json) printJson(added);
            else print(`registered ${added.name} (${added.id}); it is starting. Watch it with: ocfleet worker watch`);
            return;
          }
          reportSettled(await waitUntilSettled(connection, added.id, options.json === true), options.json === true);
        }),
    );

  worker
    .command("list")
    .description("list workers with their run state")
    .option("--machine <machine>", "only this machine's workers")
    .option("--json", "print JSON")
    .action((options: { machine?: string; json?: boolean }) =>
      withDaemon(options, async (connection) => {
        const workers = await connection.call(api.workers.list, options.machine ? { machine: options.machine } : {});
        if (options.json) printJson(workers);
        else print(renderWorkers(workers));
      }),
    );

  worker
    .command("watch")
    .description("show the workers list live (Ctrl-C to stop)")
    .option("--machine <machine>", "only this machine's workers")
    .option("--json", "print one JSON line per change")
    .action((options: { machine?: string; json?: boolean }) =>
      watchWithDaemon(options, (client, status) => {
        let latest: WorkerView[] = [];
        const draw = () => {
          const footer = style.dim(`watching workers · ${new Date().toLocaleTimeString()} · Ctrl-C to stop`);
          if (process.stdout.isTTY) process.stdout.write(`\x1b[H\x1b[2J${renderWorkers(latest)}\n\n${footer}\n`);
          else print(`${renderWorkers(latest)}\n`);
        };
        // Uptimes move without any change in the data: redraw them each second on a terminal.
        if (process.stdout.isTTY && !options.json) setInterval(draw, 1000).unref();
        client.subscribe(api.workers.list, options.machine ? { machine: options.machine } : {}, {
          onValue: (workers) => {
            latest = workers;
            if (options.json) printJsonLine(workers);
            else draw();
          },
          onError: (error) => status(`ocfleet: ${error.message}`),
        });
      }),
    );

  for (const [name, description, ref, waits] of [
    ["start", "start a stopped worker", api.workers.start, true],
    ["stop", "stop a worker (it stays stopped across daemon restarts)", api.workers.stop, false],
    ["restart", "restart a worker's OpenCode", api.workers.restart, true],
  ] as const) {
    worker
      .command(`${name} <worker>`)
      .description(description)
      .option("--json", "print JSON")
      .action((ref2: string, options: JsonOption) =>
        withDaemon(options, async (connection) => {
          const view = await connection.call(ref, { worker: ref2 });
          // start and stop leave a worker already in that state alone, and say so (exit 0).
          if ("already" in view && view.already) {
            if (options.json) printJson(view);
            else print(`${sanitizeInline(view.name)} is already ${name === "stop" ? "stopped" : `running (${view.runState})`}`);
            return;
          }
          if (waits) return reportSettled(await waitUntilSettled(connection, view.id, options.json === true), options.json === true);
          if (options.json) printJson(view);
          else print(`${sanitizeInline(view.name)} is ${view.runState}`);
        }),
      );
  }

  worker
    .command("remove <worker>")
    .description(
      'stop a worker and forget it. Its chats are kept (readable with `chat show` and `chat list --all`, marked "worker removed"; ' +
        "they take no new prompts). A worker with schedules is refused, naming them, unless --force, which removes its schedules too",
    )
    .option("--force", "also remove the worker's schedules")
    .option("--json", "print JSON")
    .action((ref: string, options: JsonOption & { force?: boolean }) =>
      withDaemon(options, async (connection) => {
        const outcome = await connection.call(api.workers.remove, { worker: ref, ...(options.force ? { force: true } : {}) });
        if (options.json) return printJson(outcome);
        const kept = outcome.chatsKept === 0 ? "" : `; its ${outcome.chatsKept} chat(s) are kept (see: ocfleet chat list --all)`;
        const schedules = outcome.schedulesRemoved === 0 ? "" : `; removed its ${outcome.schedulesRemoved} schedule(s)`;
        print(`removed worker ${sanitizeInline(outcome.name)}${schedules}${kept}`);
      }),
    );

  worker
    .command("share <worker>")
    .description("let a user (or everyone) chat on your worker; only you and admins control it")
    .option("--with <user>", "a user: an id, a name or an email")
    .option("--everyone", "everyone signed in to this daemon")
    .option("--json", "print JSON")
    .action((ref: string, options: JsonOption & { with?: string; everyone?: boolean }) =>
      withDaemon(options, async (connection) => {
        if ((options.with === undefined) === (options.everyone !== true)) throw new CliError("give either --with <user> or --everyone", 2);
        const view = await connection.call(api.workers.share, { worker: ref, ...(options.everyone ? { everyone: true as const } : { with: options.with! }) });
        if (options.json) printJson(view);
        else print(`${sanitizeInline(view.name)} is shared with ${sharedWith(view)}`);
      }),
    );

  worker
    .command("unshare <worker>")
    .description("stop sharing your worker with a user, with everyone, or (neither given) with anyone")
    .option("--with <user>", "a user: an id, a name or an email")
    .option("--everyone", "stop sharing with everyone (users it was shared with by name keep it)")
    .option("--json", "print JSON")
    .action((ref: string, options: JsonOption & { with?: string; everyone?: boolean }) =>
      withDaemon(options, async (connection) => {
        const view = await connection.call(api.workers.unshare, {
          worker: ref,
          ...(options.with !== undefined ? { with: options.with } : {}),
          ...(options.everyone ? { everyone: true as const } : {}),
        });
        if (options.json) printJson(view);
        else print(`${sanitizeInline(view.name)} is shared with ${sharedWith(view) === "-" ? "no one" : sharedWith(view)}`);
      }),
    );

  worker
    .command("models <worker>")
    .description("list the provider/model ids the worker's OpenCode offers")
    .option("--json", "print JSON")
    .action((ref: string, options: JsonOption) =>
      withDaemon(options, async (connection) => {
        const models = await connection.call(api.workerModels.list, { worker: ref });
        if (options.json) return printJson(models);
        if (models.length === 0) return print(style.dim("no models known yet: the list is read each time the worker starts"));
        print(
          formatTable([
            ["MODEL", "NAME", "CONTEXT", "TOOLS"].map(style.dim),
            ...models.map((m) => [
              `${m.id}${m.isDefault ? style.green(" (default)") : ""}`,
              m.name,
              m.contextLimit === null ? "-" : String(m.contextLimit),
              m.toolCall ? "yes" : "no",
            ]),
          ]),
        );
      }),
    );

  worker
    .command("logs <worker>")
    .description("print the worker's OpenCode output")
    .option("-n, --lines <count>", "how many of the last lines to print", "100")
    .option("-f, --follow", "keep printing new output (Ctrl-C to stop)")
    .action((ref: string, options: { lines: string; follow?: boolean }) =>
      withDaemon({}, async (connection) => {
        const count = Number(options.lines);
        if (!Number.isInteger(count) || count < 0) throw new CliError(`--lines must be a whole number, not '${options.lines}'`, 2);
        const tail = await connection.call(api.workers.readLog, { worker: ref, maxBytes: 256 * 1024 });
        const lines = tail.text.replace(/\n$/, "").split("\n");
        if (count > 0 && tail.text) print(lines.slice(-count).join("\n"));
        if (!options.follow) return;
        let offset = tail.offset;
        let stopped = false;
        process.once("SIGINT", () => (stopped = true));
        while (!stopped) {
          await new Promise((r) => setTimeout(r, 500));
          const next = await connection.call(api.workers.readLog, { worker: ref, offset, maxBytes: 256 * 1024 });
          if (next.size < offset)
            offset = 0; // rotated
          else {
            if (next.text) process.stdout.write(next.text);
            offset = next.offset;
          }
        }
      }),
    );
}
