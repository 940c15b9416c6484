// What an agent reports, applied once: the report's sequence number is checked and stored in the
// same transaction as what the report changes, and a report about a worker is accepted only from
// the machine that worker is on.
import type { AgentReport } from "../agent/link.js";
import { internalMutation } from "./context.js";
import { recordHeartbeat } from "./machines.js";
import { TABLES } from "./tables.js";
import { recordModels } from "./workerModels.js";
import { recordRuntime } from "./workers.js";

/**
 * applied: committed now; duplicate: committed before (acknowledge it again); refused: about a worker
 * the hub does not know (removed meanwhile); forged: about a worker of another machine, which no
 * honest agent sends.
 */
export type ReportOutcome = "applied" | "duplicate" | "refused" | "forged";

export const applyReport = internalMutation((ctx, args: { machineId: string; seq: number | null; report: AgentReport }): ReportOutcome => {
  const { machineId, report } = args;
  const worker =
    report.type === "machine.heartbeat"
      ? null
      : (ctx.db.prepare("SELECT machine_id FROM workers WHERE id = ?").get(report.workerId) as { machine_id: string } | undefined);
  if (worker !== null && worker?.machine_id !== machineId) {
    // Still counts as seen: resending it would not make it true.
    if (args.seq !== null) {
      ctx.db.prepare("UPDATE machines SET last_report_seq = MAX(last_report_seq, ?) WHERE id = ?").run(args.seq, machineId);
      ctx.writesUnseen(TABLES.machines);
    }
    return worker ? "forged" : "refused";
  }
  if (args.seq !== null) {
    const row = ctx.db.prepare("SELECT last_report_seq FROM machines WHERE id = ?").get(machineId) as { last_report_seq: number } | undefined;
    if (!row) return "refused";
    if (args.seq <= row.last_report_seq) return "duplicate";
    ctx.db.prepare("UPDATE machines SET last_report_seq = ? WHERE id = ?").run(args.seq, machineId);
    // No view shows the sequence number: a delta must not re-evaluate every machine list.
    ctx.writesUnseen(TABLES.machines);
  }
  switch (report.type) {
    case "machine.heartbeat":
      // The hub's clock, not the agent's: the offline sweep compares it with the hub's now.
      recordHeartbeat.handler(ctx, { machineId, facts: report.facts, at: ctx.now });
      break;
    case "worker.runtime":
      recordRuntime.handler(ctx, { machineId, workerId: report.workerId, runtime: report.runtime });
      break;
    case "worker.models":
      recordModels.handler(ctx, { machineId, workerId: report.workerId, models: report.models });
      break;
    case "worker.event":
      break;
  }
  return "applied";
});
