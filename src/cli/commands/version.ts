// ocfleet version: this client's version and, if one runs, the daemon's. Never starts a daemon.
import type { Command } from "../commander.js";
import { connectToRunningDaemon } from "../../client/daemon.js";
import { api } from "../../protocol/api/index.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../../protocol/version.js";
import { print, printJson, style } from "../output.js";
import { runCommand, stateDir } from "../session.js";

export function registerVersionCommand(program: Command): void {
  program
    .command("version")
    .description("print the client, protocol and daemon versions")
    .option("--json", "print JSON")
    .action((options: { json?: boolean }) =>
      runCommand(options, async () => {
        const home = stateDir();
        const connection = await connectToRunningDaemon(home, "ocfleet-cli");
        let daemon: { running: false } | { running: true; version: string; protocol: number; pid: number; startedAt: number };
        if (connection) {
          const info = await connection.call(api.appinfo.get, {}, { timeoutMs: 5000 }).finally(() => connection.close());
          daemon = { running: true, version: info.version, protocol: info.protocol, pid: info.pid, startedAt: info.startedAt };
        } else {
          daemon = { running: false };
        }
        const report = { version: PACKAGE_VERSION, protocol: PROTOCOL_VERSION, stateDir: home, daemon };
        if (options.json) return printJson(report);
        print(`ocfleet ${PACKAGE_VERSION} ${style.dim(`(protocol ${PROTOCOL_VERSION})`)}`);
        print(`state directory: ${home}`);
        if (!daemon.running) return print(`daemon: ${style.dim("not running")}`);
        const mismatch = daemon.version !== PACKAGE_VERSION ? style.yellow(" (another version: the next command replaces it)") : "";
        print(`daemon: ${daemon.version}, pid ${daemon.pid}${mismatch}`);
      }),
    );
}
