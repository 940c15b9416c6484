// One way to print: a command declares `--json` here, runs (connected to the daemon or not), and
// prints either the exact result as JSON or its human view, drawn from sanitized text. Errors the
// daemon reports about an argument are turned into usage errors naming what the user typed.
import type { Command } from "./commander.js";
import type { FleetConnection } from "../client/connection.js";
import { FleetError } from "../protocol/errors.js";
import { CliError, print, printJson, sanitizeValue } from "./output.js";
import { openDaemonConnection, runCommand, type CommandOptions } from "./session.js";

/** The human view: lines to print, or nothing. */
export type HumanView = string | string[] | undefined | void;

/** Wire argument → what the user typed (`itemId` → `<item>`, `timezone` → `--tz`), where the names differ. */
export type FieldNames = Record<string, string>;

export interface OutputSpec<O, T> {
  /** What `--json` says (default: "print JSON"). */
  jsonHelp?: string;
  /** Builds the result from the positional arguments and the options. */
  run(args: string[], options: O & CommandOptions): Promise<T>;
  /** The human view of the result; its strings are already safe to print. */
  human(value: T, args: string[], options: O): HumanView;
  /** The JSON of the result, where it is not the result itself. */
  json?(value: T): unknown;
  fields?: FieldNames;
}

export interface ReadSpec<O, T> extends Omit<OutputSpec<O, T>, "run"> {
  /** Usage checks that need no daemon: a mistake in the arguments should not start one. */
  check?(args: string[], options: O & CommandOptions): void;
  run(connection: FleetConnection, args: string[], options: O & CommandOptions): Promise<T>;
  /** About this machine itself (its membership of a hub): always its own daemon, never the hub it joined. */
  thisMachine?: boolean;
}

/** Prints a result for a person (sanitized) or a script (exact). */
export function printResult<T, O>(value: T, options: O & CommandOptions, human: (value: T, options: O) => HumanView, json?: (value: T) => unknown): void {
  if (options.json) return printJson(json ? json(value) : value);
  const view = human(sanitizeValue(value), options);
  if (view === undefined) return;
  for (const line of Array.isArray(view) ? view : [view]) print(line);
}

/** Declares `--json` on `cmd` and gives it an action that runs `spec` and prints what it returns. */
export function defineOutput<O extends object, T>(cmd: Command, spec: OutputSpec<O, T>): Command {
  return cmd.option("--json", spec.jsonHelp ?? "print JSON").action((...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    const args = params.slice(0, -2) as string[];
    // Globals too: `ocfleet --json worker list` means the same as `ocfleet worker list --json`.
    const options = command.optsWithGlobals<O & CommandOptions>();
    return runAction(command, options, spec.fields, async () => {
      const value = await spec.run(args, options);
      printResult(value, options, (v, o) => spec.human(v, args, o), spec.json);
    });
  });
}

/** As defineOutput, connected to the daemon (started if needed) while `run` runs. */
export function defineRead<O extends object, T>(cmd: Command, spec: ReadSpec<O, T>): Command {
  return defineOutput<O, T>(cmd, {
    ...spec,
    run: async (args, options) => {
      spec.check?.(args, options);
      const connection = await openDaemonConnection(options, "auto", { thisMachine: spec.thisMachine === true });
      try {
        return await spec.run(connection, args, options);
      } finally {
        connection.close();
      }
    },
  });
}

/** Runs a command's body; an invalid argument becomes a usage error naming the flag or argument. */
export function runAction(command: Command, options: CommandOptions, fields: FieldNames | undefined, body: () => Promise<void>): Promise<void> {
  return runCommand(options, async () => {
    try {
      await body();
    } catch (err) {
      throw asUsageError(err, command, fields);
    }
  });
}

/** What the user typed for a wire argument: the explicit name, else the option or argument of that name. */
export function userNameOf(field: string, command: Command, fields: FieldNames = {}): string | undefined {
  const head = field.split(".")[0]!;
  if (fields[field] ?? fields[head]) return fields[field] ?? fields[head];
  const option = command.options.find((o) => o.attributeName() === head);
  if (option?.long) return option.long;
  const argument = command.registeredArguments.find((a) => a.name() === head);
  return argument ? `<${argument.name()}>` : undefined;
}

/**
 * An `invalid_argument` from the daemon is a usage error (exit 2). Where the message is the
 * argument check's "<field>: <reason>", the field becomes what the user typed; a message a handler
 * wrote for people already says what is wrong, and stays as it is.
 */
function asUsageError(err: unknown, command: Command, fields: FieldNames | undefined): unknown {
  if (!(err instanceof FleetError) || err.code !== "invalid_argument") return err;
  const field = typeof err.data?.field === "string" ? err.data.field : undefined;
  const name = field === undefined ? undefined : userNameOf(field, command, fields);
  const message = name && err.message.startsWith(`${field}: `) ? `${name}: ${err.message.slice(field!.length + 2)}` : err.message;
  return new CliError(message, 2, { code: err.code, ...err.data });
}
