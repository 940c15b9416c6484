// The ocfleet command: a commander program with one file per command group.
import { Command, CommanderError } from "./commander.js";
import { PACKAGE_VERSION } from "../protocol/version.js";
import { reportError } from "./output.js";
import { registerAdminCommands } from "./commands/admin.js";
import { registerAttendanceCommands } from "./commands/attendance.js";
import { registerAuthCommands } from "./commands/auth.js";
import { registerChatCommands } from "./commands/chat.js";
import { registerChecklistCommands } from "./commands/checklist.js";
import { registerDaemonCommands } from "./commands/daemon.js";
import { registerDiscussCommands } from "./commands/discuss.js";
import { registerMachineCommands } from "./commands/machine.js";
import { registerPresentCommands } from "./commands/present.js";
import { registerScheduleCommands } from "./commands/schedule.js";
import { registerVersionCommand } from "./commands/version.js";
import { registerWorkerCommands } from "./commands/worker.js";

export function buildProgram(): Command {
  const program = new Command("ocfleet")
    .description("Run and steer OpenCode coding agents on all your machines")
    .version(PACKAGE_VERSION, "-V, --version-number", "print the version number")
    .showSuggestionAfterError(true)
    .exitOverride();
  registerVersionCommand(program);
  registerDaemonCommands(program);
  registerAuthCommands(program);
  registerWorkerCommands(program);
  registerChatCommands(program);
  registerMachineCommands(program);
  registerAdminCommands(program);
  registerChecklistCommands(program);
  registerAttendanceCommands(program);
  registerDiscussCommands(program);
  registerPresentCommands(program);
  registerScheduleCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  if (argv.length === 0) {
    if (process.stdin.isTTY && process.stdout.isTTY) {
      // Ink and React load only here: every other command starts without them.
      try {
        // Load the TUI while connecting to the daemon: the two waits overlap.
        const tui = import("../tui/main.js");
        const { connectForTui } = await import("../tui/connect.js");
        const connection = connectForTui();
        const { runTui } = await tui;
        await runTui(await connection);
      } catch (err) {
        process.exitCode = reportError(err, false);
      }
      return;
    }
    program.outputHelp();
    return;
  }
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
