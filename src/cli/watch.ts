// `… watch` commands: subscribe to a live query and print it again on every change. On a
// terminal the screen is redrawn; piped, each version is printed after the last; with --json,
// one JSON line per change. Reconnects when the daemon restarts (watchWithDaemon).
import type { FleetClient } from "../client/client.js";
import type { ArgsOf, QueryRef, ResultOf } from "../protocol/api/index.js";
import { print, printJsonLine, style } from "./output.js";
import { watchWithDaemon, type CommandOptions } from "./session.js";

export interface WatchSpec<Q extends QueryRef> {
  query: Q;
  args: ArgsOf<Q>;
  /** What is watched, for the footer ("standup"). */
  label: string;
  render(value: ResultOf<Q>): string;
  /** Optional: a value to skip (a follower's stale frame); return false to ignore it. */
  accept?(value: ResultOf<Q>): boolean;
  /** Called after printing; return true to stop watching (the thing ended). */
  done?(value: ResultOf<Q>): boolean;
}

export function watchQuery<Q extends QueryRef>(options: CommandOptions, spec: WatchSpec<Q>): Promise<void> {
  return watchWithDaemon(options, (client: FleetClient, status) => {
    const redraw = process.stdout.isTTY && !options.json;
    client.subscribe(spec.query, spec.args, {
      onValue: (value) => {
        if (spec.accept && !spec.accept(value)) return;
        if (options.json) printJsonLine(value);
        else {
          const footer = style.dim(`watching ${spec.label} · updated ${new Date().toLocaleTimeString()} · Ctrl-C to stop`);
          if (redraw) process.stdout.write(`\x1b[H\x1b[2J${spec.render(value)}\n\n${footer}\n`);
          else print(`${spec.render(value)}\n`);
        }
        // watchWithDaemon ends on SIGINT; emitting it (no real signal) ends the watch the same way.
        if (spec.done?.(value)) process.emit("SIGINT");
      },
      onError: (error) => status(`ocfleet: ${error.message}`),
    });
  });
}
