// ocfleet version: this client's version and, if one runs, the daemon's. Never starts a daemon.
import type { Command } from "../commander.js";
import { connectToRunningDaemon } from "../../client/running-daemon.js";
import { api } from "../../protocol/api/index.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../../protocol/version.js";
import { style } from "../output.js";
import { stateDir } from "../session.js";
import { defineOutput } from "../command.js";

export function registerVersionCommand(program: Command): void {
  defineOutput(program.command("version").description("print the client, protocol and daemon versions"), {
    run: async () => {
      const home = stateDir();
      const connection = await connectToRunningDaemon(home, "ocfleet-cli");
      let daemon: { running: false } | { running: true; version: string; protocol: number; pid: number; startedAt: number };
      if (connection) {
        const info = await connection.call(api.appinfo.get, {}, { timeoutMs: 5000 }).finally(() => connection.close());
        daemon = { running: true, version: info.version, protocol: info.protocol, pid: info.pid, startedAt: info.startedAt };
      } else {
        daemon = { running: false };
      }
      return { version: PACKAGE_VERSION, protocol: PROTOCOL_VERSION, stateDir: home, daemon };
    },
    human: ({ stateDir: home, daemon }) => {
      const lines = [`ocfleet ${PACKAGE_VERSION} ${style.dim(`(protocol ${PROTOCOL_VERSION})`)}`, `state directory: ${home}`];
      if (!daemon.running) return [...lines, `daemon: ${style.dim("not running")}`];
      const mismatch = daemon.version !== PACKAGE_VERSION ? style.yellow(" (another version: the next command replaces it)") : "";
      return [...lines, `daemon: ${daemon.version}, pid ${daemon.pid}${mismatch}`];
    },
  });
}
