// `… watch` commands: subscribe to live queries and print again on every change. On a terminal
// the screen is redrawn; piped, each version is printed after the last; with --json, one JSON
// line per change. The client reconnects when the daemon restarts; a watch ends on Ctrl-C, when
// the watched thing ends, or at once when its first evaluation is refused (no such chat, not yours).
import { FleetClient } from "../client/client.js";
import { connectToDaemon } from "../client/daemon.js";
import { selectedHub } from "../client/hubs.js";
import type { ArgsOf, QueryRef, ResultOf } from "../protocol/api/index.js";
import type { ErrorCode, FleetError } from "../protocol/errors.js";
import type { Command } from "./commander.js";
import { type FieldNames, runAction } from "./command.js";
import { sanitize } from "../terminal/sanitize.js";
import { print, printJsonLine, sanitizeValue, style } from "./output.js";
import { type CommandOptions, notice, openDaemonConnection, stateDir } from "./session.js";

/** Errors that will not go away by waiting: the watch ends with them instead of hanging. */
const FINAL_ERRORS = new Set<ErrorCode>(["not_found", "permission_denied", "invalid_argument", "unauthenticated"]);

export interface LiveWatch {
  /** Subscribes through the reconnecting client; a refused first evaluation ends the watch with its error. */
  subscribe<Q extends QueryRef>(query: Q, args: ArgsOf<Q>, onValue: (value: ResultOf<Q>) => void): void;
  /** Ends the watch: the watched thing is over. */
  end(): void;
  /** A line about the watch itself (reconnecting, a passing error), on stderr and never with --json. */
  status(line: string): void;
}

/** Runs a live view until Ctrl-C, `end()`, or a final error (which becomes the command's error). */
export async function watchLive(options: CommandOptions, start: (live: LiveWatch) => void): Promise<void> {
  const home = stateDir();
  const connection = await openDaemonConnection(options);
  // Reconnects present the saved credential too: a restarted daemon still knows the session.
  // A remote hub (--hub) is reached again the same way; this machine's daemon is never started by a reconnect.
  const client = new FleetClient(connection, () =>
    selectedHub() ? openDaemonConnection(options) : connectToDaemon({ home, autoStart: false, clientName: "ocfleet-cli", onNotice: notice }),
  );
  const status = (line: string) => {
    // Lines quote the daemon's errors, which quote names: sanitized like any outside text.
    if (!options.json) process.stderr.write(`${sanitize(line)}\n`);
  };
  client.onStateChange((state) => {
    if (state.status === "reconnecting" && state.attempt === 0) status("ocfleet: lost the daemon; reconnecting…");
    if (state.status === "open") status("ocfleet: reconnected");
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const interrupted = () => finish();
      const finish = (error?: FleetError) => {
        process.off("SIGINT", interrupted);
        process.off("SIGTERM", interrupted);
        if (error) reject(error);
        else resolve();
      };
      process.once("SIGINT", interrupted);
      process.once("SIGTERM", interrupted);
      const reported = new Set<string>();
      start({
        subscribe(query, args, onValue) {
          let answered = false;
          client.subscribe(query, args, {
            onValue: (value) => {
              answered = true;
              onValue(value);
            },
            onError: (error) => {
              if (!answered && FINAL_ERRORS.has(error.code)) return finish(error);
              if (reported.has(error.message)) return;
              reported.add(error.message);
              status(`ocfleet: ${error.message}`);
            },
          });
        },
        end: () => finish(),
        status,
      });
    });
  } finally {
    client.close();
  }
}

export interface WatchSpec<Q extends QueryRef> {
  query: Q;
  args: ArgsOf<Q>;
  /** What is watched, for the footer ("standup"). */
  label: string;
  /** The view, drawn from a sanitized value. */
  render(value: ResultOf<Q>): string;
  /** Optional: a value to skip (a follower's stale frame); return false to ignore it. */
  accept?(value: ResultOf<Q>): boolean;
  /** Return true when the watched thing has ended: the watch stops after printing it. */
  done?(value: ResultOf<Q>): boolean;
  /** Redraw this often on a terminal even without changes (ages and uptimes move on their own). */
  tickMs?: number;
}

/** Watches one query: redraws (terminal), appends (pipe) or prints NDJSON (--json) on every change. */
export function watchQuery<Q extends QueryRef>(options: CommandOptions, spec: WatchSpec<Q>): Promise<void> {
  const redraw = process.stdout.isTTY && !options.json;
  let latest: { value: ResultOf<Q> } | undefined;
  let ticker: NodeJS.Timeout | undefined;
  const draw = () => {
    if (!latest) return;
    const body = spec.render(sanitizeValue(latest.value));
    const footer = style.dim(`watching ${spec.label} · updated ${new Date().toLocaleTimeString()} · Ctrl-C to stop`);
    if (redraw) process.stdout.write(`\x1b[H\x1b[2J${body}\n\n${footer}\n`);
    else print(`${body}\n`);
  };
  if (redraw && spec.tickMs) ticker = setInterval(draw, spec.tickMs).unref();
  return watchLive(options, (live) =>
    live.subscribe(spec.query, spec.args, (value) => {
      if (spec.accept && !spec.accept(value)) return;
      latest = { value };
      if (options.json) printJsonLine(value);
      else draw();
      if (spec.done?.(value)) live.end();
    }),
  ).finally(() => clearInterval(ticker));
}

/** Declares a watch command: `--json` for NDJSON, and the spec built from its arguments. */
export function defineWatch<O extends object, Q extends QueryRef>(
  cmd: Command,
  spec: (args: string[], options: O & CommandOptions) => WatchSpec<Q>,
  fields?: FieldNames,
): Command {
  return cmd.option("--json", "print one JSON line per change").action((...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    const options = command.optsWithGlobals<O & CommandOptions>();
    return runAction(command, options, fields, () => watchQuery(options, spec(params.slice(0, -2) as string[], options)));
  });
}
