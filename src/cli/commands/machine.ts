// ocfleet machine …: the computers of the fleet and whether they are online.
import type { Command } from "../commander.js";
import { api, type MachineView } from "../../protocol/api/index.js";
import { formatAge, formatTable, style } from "../output.js";
import { defineRead } from "../command.js";
import { sanitizeInline } from "../../terminal/sanitize.js";
import { registerMachineLinkCommands } from "./machine-links.js";

export function renderMachines(machines: MachineView[], now = Date.now()): string {
  return formatTable([
    ["NAME", "HOSTNAME", "OS", "STATUS", "LAST HEARTBEAT", "RTT", "VERSION", "WORKERS"].map(style.dim),
    ...machines.map((m) => [
      m.isLocal ? `${sanitizeInline(m.name)} ${style.dim("(this machine)")}` : sanitizeInline(m.name),
      sanitizeInline(m.hostname),
      sanitizeInline([m.platform, m.release, m.arch].filter(Boolean).join(" ") || "-"),
      m.approval !== "approved" ? style.yellow(m.approval) : m.online ? style.green("online") : style.dim("offline"),
      m.lastHeartbeatAt === null ? "never" : formatAge(m.lastHeartbeatAt, now),
      m.rttMs === null ? "-" : `${m.rttMs} ms`,
      m.agentVersion === null ? "-" : m.versionMatches ? sanitizeInline(m.agentVersion) : style.yellow(`${sanitizeInline(m.agentVersion)} (hub differs)`),
      `${m.workers.total} (${m.workers.running} running, ${m.workers.active} active, ${m.workers.error} error)`,
    ]),
  ]);
}

export function registerMachineCommands(program: Command): void {
  const machine = program.command("machine").description("the machines of the fleet");
  defineRead(machine.command("list").description("list machines with their status and worker counts"), {
    run: (c) => c.call(api.machines.list, {}),
    human: (machines) => renderMachines(machines),
  });
  registerMachineLinkCommands(machine);
}
