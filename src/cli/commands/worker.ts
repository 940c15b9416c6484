// ocfleet worker …: OpenCode servers bound to directories, supervised by the daemon.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "../commander.js";
import type { FleetConnection } from "../../client/connection.js";
import { api, type RemovedWorker, type WorkerView } from "../../protocol/api/index.js";
import { CliError, formatDuration, formatTable, print, style } from "../output.js";
import { startProgress } from "../progress.js";
import { withDaemon } from "../session.js";
import { defineRead } from "../command.js";
import { defineWatch } from "../watch.js";
import { registerWorkerWorktreeCommand } from "./review.js";
import { sanitize } from "../../terminal/sanitize.js";

const STATE_STYLE: Record<WorkerView["runState"], (s: string) => string> = {
  starting: style.yellow,
  idle: style.green,
  active: style.cyan,
  offline: style.dim,
  error: style.red,
};

export function renderWorkers(workers: WorkerView[], now = Date.now()): string {
  if (workers.length === 0) return style.dim("no workers yet; add one with: ocfleet worker add <directory>");
  const rows = [["NAME", "MACHINE", "STATE", "OPENCODE PID", "UPTIME", "RESTARTS", "OWNER", "SHARED WITH", "DIRECTORY"].map(style.dim)];
  const reasons = new Map<number, string>();
  // Workers served by the same OpenCode process show the same pid; say how many share it.
  const served = new Map<string, number>();
  for (const w of workers) if (w.pid !== null) served.set(`${w.machineId}:${w.pid}`, (served.get(`${w.machineId}:${w.pid}`) ?? 0) + 1);
  for (const w of workers) {
    const sharing = w.pid === null ? 0 : served.get(`${w.machineId}:${w.pid}`)!;
    rows.push([
      w.name,
      w.machineName,
      STATE_STYLE[w.runState](w.runState),
      w.pid === null ? "-" : sharing > 1 ? `${w.pid} (${sharing} workers)` : w.isolated ? `${w.pid} (own)` : String(w.pid),
      w.startedAt === null ? "-" : formatDuration(now - w.startedAt),
      String(w.restartCount),
      w.createdBy ?? "-",
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
  return w.sharedWith.length === 0 ? "-" : w.sharedWith.join(", ");
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

/** How a worker that was waited for ended up; a worker in error makes the command fail. */
function describeSettled(view: WorkerView): string {
  if (view.runState === "error") return `${style.red("✗")} ${view.name} failed to start: ${view.reason ?? "unknown reason"}`;
  return `${style.green("✓")} ${view.name} is ${view.runState} (pid ${view.pid}, OpenCode ${view.opencodeVersion ?? "?"}) in ${view.directory}`;
}

async function settle(connection: FleetConnection, view: WorkerView, json: boolean): Promise<WorkerView> {
  const settled = await waitUntilSettled(connection, view.id, json);
  if (settled.runState === "error") process.exitCode = 1;
  return settled;
}

type AddOptions = { name?: string; machine?: string; env: string[]; envFile?: string; opencodeBin?: string; isolated?: boolean; wait: boolean };

export function registerWorkerCommands(program: Command): void {
  const worker = program
    .command("worker")
    .description("OpenCode workers: one per directory, supervised by the daemon (sharing an OpenCode process where they can)");

  defineRead<AddOptions, { view: WorkerView; settled: boolean }>(
    worker
      .command("add <directory>")
      .description("register a worker for a directory and start it")
      .option("--name <name>", "a short name (default: the directory's name)")
      .option("--machine <machine>", "the machine to run it on (default: this one)")
      .option("--env <KEY=VALUE>", "add to the worker's environment (repeatable)", (value: string, all: string[]) => [...all, value], [] as string[])
      .option("--env-file <file>", "read KEY=VALUE lines into the worker's environment")
      .option("--opencode-bin <path>", "use this OpenCode binary for the worker")
      .option("--isolated", "run it in an OpenCode process of its own instead of sharing one with the machine's other workers")
      .option("--no-wait", "return once registered instead of waiting until it is ready"),
    {
      fields: { directory: "<directory>", opencodeBinary: "--opencode-bin" },
      check: ([directory], options) => {
        if (options.machine && !directory!.startsWith("/")) throw new CliError("give an absolute directory for a worker on another machine", 2);
        parseEnv(options.env, options.envFile);
      },
      run: async (connection, [directory], options) => {
        const env = parseEnv(options.env, options.envFile);
        const added = await connection.call(api.workers.add, {
          directory: options.machine ? directory! : resolve(directory!),
          ...(options.name ? { name: options.name } : {}),
          ...(options.machine ? { machine: options.machine } : {}),
          ...(Object.keys(env).length > 0 ? { env } : {}),
          ...(options.opencodeBin ? { opencodeBinary: resolve(options.opencodeBin) } : {}),
          ...(options.isolated ? { isolated: true } : {}),
        });
        if (!options.wait) return { view: added, settled: false };
        return { view: await settle(connection, added, options.json === true), settled: true };
      },
      json: ({ view }) => view,
      human: ({ view, settled }) =>
        settled ? describeSettled(view) : `registered ${view.name} (${view.id}); it is starting. Watch it with: ocfleet worker watch`,
    },
  );

  registerWorkerWorktreeCommand(worker);

  defineRead(worker.command("list").description("list workers with their run state").option("--machine <machine>", "only this machine's workers"), {
    run: (c, _args, options: { machine?: string }) => c.call(api.workers.list, options.machine ? { machine: options.machine } : {}),
    human: (workers) => renderWorkers(workers),
  });

  defineWatch(
    worker.command("watch").description("show the workers list live (Ctrl-C to stop)").option("--machine <machine>", "only this machine's workers"),
    (_args, options: { machine?: string }) => ({
      query: api.workers.list,
      args: options.machine ? { machine: options.machine } : {},
      label: "workers",
      render: (workers) => renderWorkers(workers),
      // Uptimes move without any change in the data.
      tickMs: 1000,
    }),
  );

  for (const [name, description, ref, waits] of [
    ["start", "start a stopped worker", api.workers.start, true],
    ["stop", "stop a worker (it stays stopped across daemon restarts)", api.workers.stop, false],
    ["restart", "restart a worker's OpenCode", api.workers.restart, true],
  ] as const) {
    defineRead(worker.command(`${name} <worker>`).description(description), {
      run: async (c, [ref2], options) => {
        const view = await c.call(ref, { worker: ref2! });
        // start and stop leave a worker already in that state alone, and say so (exit 0).
        const already = "already" in view && view.already;
        return { view: waits && !already ? await settle(c, view, options.json === true) : view, settled: waits && !already, already };
      },
      json: ({ view }) => view,
      human: ({ view, settled, already }) =>
        already
          ? `${view.name} is already ${name === "stop" ? "stopped" : `running (${view.runState})`}`
          : settled
            ? describeSettled(view)
            : `${view.name} is ${view.runState}`,
    });
  }

  defineRead<{ force?: boolean }, RemovedWorker>(
    worker
      .command("remove <worker>")
      .description(
        'stop a worker and forget it. Its chats are kept (readable with `chat show` and `chat list --all`, marked "worker removed"; ' +
          "they take no new prompts). A worker with schedules is refused, naming them, unless --force, which removes its schedules too",
      )
      .option("--force", "also remove the worker's schedules"),
    {
      run: (c, [ref], options) => c.call(api.workers.remove, { worker: ref!, ...(options.force ? { force: true } : {}) }),
      human: (outcome) => {
        const kept = outcome.chatsKept === 0 ? "" : `; its ${outcome.chatsKept} chat(s) are kept (see: ocfleet chat list --all)`;
        const schedules = outcome.schedulesRemoved === 0 ? "" : `; removed its ${outcome.schedulesRemoved} schedule(s)`;
        return `removed worker ${outcome.name}${schedules}${kept}`;
      },
    },
  );

  defineRead<{ with?: string; everyone?: boolean }, WorkerView>(
    worker
      .command("share <worker>")
      .description("let a user (or everyone) chat on your worker; only you and admins control it")
      .option("--with <user>", "a user: an id, a name or an email")
      .option("--everyone", "everyone signed in to this daemon"),
    {
      fields: { with: "--with" },
      check: (_args, options) => {
        if ((options.with === undefined) === (options.everyone !== true)) throw new CliError("give either --with <user> or --everyone", 2);
      },
      run: (c, [ref], options) => c.call(api.workers.share, { worker: ref!, ...(options.everyone ? { everyone: true as const } : { with: options.with! }) }),
      human: (view) => `${view.name} is shared with ${sharedWith(view)}`,
    },
  );

  defineRead<{ with?: string; everyone?: boolean }, WorkerView>(
    worker
      .command("unshare <worker>")
      .description("stop sharing your worker with a user, with everyone, or (neither given) with anyone")
      .option("--with <user>", "a user: an id, a name or an email")
      .option("--everyone", "stop sharing with everyone (users it was shared with by name keep it)"),
    {
      fields: { with: "--with" },
      run: (c, [ref], options) =>
        c.call(api.workers.unshare, {
          worker: ref!,
          ...(options.with !== undefined ? { with: options.with } : {}),
          ...(options.everyone ? { everyone: true as const } : {}),
        }),
      human: (view) => `${view.name} is shared with ${sharedWith(view) === "-" ? "no one" : sharedWith(view)}`,
    },
  );

  defineRead(worker.command("models <worker>").description("list the provider/model ids the worker's OpenCode offers"), {
    run: (c, [ref]) => c.call(api.workerModels.list, { worker: ref! }),
    human: (models) => {
      if (models.length === 0) return style.dim("no models known yet: the list is read each time the worker starts");
      return formatTable([
        ["MODEL", "NAME", "CONTEXT", "TOOLS"].map(style.dim),
        ...models.map((m) => [
          `${m.id}${m.isDefault ? style.green(" (default)") : ""}`,
          m.name,
          m.contextLimit === null ? "-" : String(m.contextLimit),
          m.toolCall ? "yes" : "no",
        ]),
      ]);
    },
  });

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
        // OpenCode's output carries what tools and models printed: sanitized like any outside text.
        if (count > 0 && tail.text) print(sanitize(lines.slice(-count).join("\n")));
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
            if (next.text) process.stdout.write(sanitize(next.text));
            offset = next.offset;
          }
        }
      }),
    );
}
