// commander, bundled into the CLI's entry chunk.
import { Command, CommanderError } from "commander";

export { Command, CommanderError };
