// ocfleet daemon start|stop|status|logs|run: the daemon's lifecycle.
import type { Command } from "../commander.js";
import { createReadStream, existsSync, readFileSync, statSync, unwatchFile, watchFile } from "node:fs";
import { connectToRunningDaemon, stopDaemon } from "../../client/daemon.js";
import type { FleetConnection } from "../../client/connection.js";
import { api, type DaemonStatus } from "../../protocol/api/index.js";
import { EXIT_ALREADY_RUNNING, EXIT_STATE_UNUSABLE } from "../../protocol/exit-codes.js";
import { statePaths } from "../../protocol/statefile.js";
import { CliError, formatBytes, formatDuration, print, style } from "../output.js";
import { defineOutput } from "../command.js";
import { sanitize } from "../../terminal/sanitize.js";
import { openDaemonConnection, runCommand, stateDir } from "../session.js";

/** The exit code for "no daemon is running", as `systemctl status` does. */
const EXIT_NOT_RUNNING = 3;

function renderStatus(status: DaemonStatus): string[] {
  return [
    `${style.green("●")} ocfleet daemon ${status.version} ${style.dim(`(protocol ${status.protocol})`)}`,
    `  pid:          ${status.pid}`,
    `  uptime:       ${formatDuration(status.uptimeMs)}`,
    `  listening:    ws://${status.listen.host}:${status.listen.port}`,
    `  state dir:    ${status.stateDir}`,
    `  database:     ${status.db.path} (${formatBytes(status.db.sizeBytes)}, WAL ${formatBytes(status.db.walBytes)}, schema v${status.db.schemaVersion})`,
    `  log:          ${status.logPath}`,
    `  clients:      ${status.connections} connected, ${status.subscriptions} subscriptions`,
    `  memory (RSS): ${formatBytes(status.rssBytes)}`,
  ];
}

async function statusOf(connection: FleetConnection): Promise<DaemonStatus> {
  try {
    return await connection.call(api.daemon.status, {}, { timeoutMs: 5000 });
  } finally {
    connection.close();
  }
}

export function registerDaemonCommands(program: Command): void {
  const daemon = program.command("daemon").description("start, stop and inspect the background daemon");

  defineOutput(daemon.command("start").description("start the daemon if it is not running"), {
    run: async (_args, options) => ({ running: true as const, ...(await statusOf(await openDaemonConnection(options, "auto", { thisMachine: true }))) }),
    human: (status) => renderStatus(status),
  });

  defineOutput(daemon.command("stop").description("stop the daemon gracefully"), {
    run: () => stopDaemon(stateDir()),
    human: (outcome) => (outcome.wasRunning ? `stopped the daemon (pid ${outcome.pid})` : "no daemon was running"),
  });

  defineOutput(daemon.command("status").description("show whether the daemon runs, and its pid, version, uptime, address and database"), {
    run: async () => {
      const connection = await connectToRunningDaemon(stateDir(), "ocfleet-cli");
      if (connection) return { running: true as const, ...(await statusOf(connection)) };
      process.exitCode = EXIT_NOT_RUNNING;
      return { running: false as const, stateDir: stateDir() };
    },
    human: (status) => (status.running ? renderStatus(status) : `${style.dim("○")} no ocfleet daemon is running for ${status.stateDir}`),
  });

  daemon
    .command("logs")
    .description("print the daemon log")
    .option("-n, --lines <count>", "how many of the last lines to print", "50")
    .option("-f, --follow", "keep printing new lines as they are written")
    .action((options: { lines: string; follow?: boolean }) =>
      runCommand({}, async () => {
        const count = Number(options.lines);
        if (!Number.isInteger(count) || count < 0) throw new CliError(`--lines must be a whole number, not '${options.lines}'`, 2);
        const path = statePaths(stateDir()).log;
        if (!existsSync(path)) {
          if (!options.follow) return print(style.dim(`no daemon log yet at ${path}`));
        } else {
          const lines = readFileSync(path, "utf8").trimEnd().split("\n");
          // The log quotes what clients and OpenCode sent: sanitized like any outside text.
          if (count > 0 && lines.join("") !== "") print(sanitize(lines.slice(-count).join("\n")));
        }
        if (options.follow) await followFile(path);
      }),
    );

  defineOutput(
    daemon
      .command("install")
      .description("start the daemon at login, surviving reboots (systemd user unit or launchd agent)")
      .option("--print", "only show the service file and where it would go"),
    {
      run: async (_args, options: { print?: boolean }) => {
        const { installService, serviceFile } = await import("./service.js");
        if (options.print) {
          const service = serviceFile(stateDir());
          return { printed: true as const, kind: service.kind, name: service.name, path: service.path, content: service.content };
        }
        const service = await installService(stateDir());
        return { installed: true as const, kind: service.kind, name: service.name, path: service.path };
      },
      human: (result) =>
        "printed" in result ? `# ${result.path}\n${result.content}` : `installed ${result.name} (${result.path}); the daemon now starts at login`,
      json: (result) => {
        if (!("printed" in result)) return result;
        const { printed: _printed, ...service } = result;
        return service;
      },
    },
  );

  defineOutput(daemon.command("uninstall").description("stop starting the daemon at login"), {
    run: async () => {
      const { uninstallService } = await import("./service.js");
      const { service, removed } = uninstallService(stateDir());
      return { removed, name: service.name, path: service.path };
    },
    human: (result) => (result.removed ? `removed ${result.name}` : `${result.name} was not installed`),
  });

  daemon
    .command("run")
    .description("run the daemon in the foreground (what `start` runs in the background)")
    .option("--background", "log only to the file; used when started detached")
    .action(async (options: { background?: boolean }) => {
      const { runDaemon, AlreadyRunningError } = await import("../../daemon/main.js");
      const { UnusableStateError } = await import("../../daemon/db/state-file-check.js");
      try {
        await runDaemon({ home: stateDir(), echoLog: !options.background });
      } catch (err) {
        process.stderr.write(`ocfleet: ${err instanceof Error ? err.message : String(err)}\n`);
        const code = err instanceof AlreadyRunningError ? EXIT_ALREADY_RUNNING : err instanceof UnusableStateError ? EXIT_STATE_UNUSABLE : 1;
        // launchd can only tell "exit 0" from the rest: exiting 0 there is what stops a restart loop.
        const noRestart = code === EXIT_ALREADY_RUNNING || code === EXIT_STATE_UNUSABLE;
        process.exit(noRestart && process.env.OCFLEET_SERVICE === "launchd" ? 0 : code);
      }
    });
}

/** Prints what is appended to the file until interrupted; copes with the file appearing or rotating. */
function followFile(path: string): Promise<void> {
  let offset = existsSync(path) ? statSync(path).size : 0;
  let reading = false;
  const readMore = () => {
    if (reading || !existsSync(path)) return;
    const size = statSync(path).size;
    if (size < offset) offset = 0; // rotated or truncated
    if (size === offset) return;
    reading = true;
    const stream = createReadStream(path, { start: offset, end: size - 1 });
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => process.stdout.write(sanitize(String(chunk))));
    stream.on("close", () => {
      offset = size;
      reading = false;
    });
  };
  watchFile(path, { interval: 200 }, readMore);
  return new Promise((resolve) =>
    process.once("SIGINT", () => {
      unwatchFile(path);
      resolve();
    }),
  );
}
