// commander, loaded with require: importing a CommonJS package from ESM runs Node's CJS export
// scanner, which costs several milliseconds of every command's start-up.
import { createRequire } from "node:module";

const commander = createRequire(import.meta.url)("commander") as typeof import("commander");
export const Command = commander.Command;
export type Command = import("commander").Command;
export const CommanderError = commander.CommanderError;
export type CommanderError = import("commander").CommanderError;
