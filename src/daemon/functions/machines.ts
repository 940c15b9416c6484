// machines: the fleet's computers. The local one registers itself (model/machines.ts); heartbeats keep it online.
import { z } from "zod";
import { api, type MachineView } from "../../protocol/api/index.js";
import { PACKAGE_VERSION } from "../../protocol/version.js";
import type { MachineRow } from "../model/machines.js";
import { TABLES } from "../model/tables.js";
import { VISIBLE_WORKER_SQL, visibleWorkerParams } from "../model/workerAccess.js";
import { defineQuery } from "./define.js";

export const list = defineQuery(api.machines.list, {
  access: "user",
  args: z.strictObject({}),
  handler: (ctx): MachineView[] => {
    ctx.reads(TABLES.machines);
    ctx.reads(TABLES.workers);
    const counts = new Map<string, MachineView["workers"]>();
    // Counts only the workers the caller may see (model/workerAccess.ts).
    const visible = ctx.db.prepare(`SELECT machine_id, run_state, COUNT(*) AS n FROM workers w WHERE ${VISIBLE_WORKER_SQL} GROUP BY machine_id, run_state`);
    for (const row of visible.all(...visibleWorkerParams(ctx.user)) as {
      machine_id: string;
      run_state: string;
      n: number;
    }[]) {
      const c = counts.get(row.machine_id) ?? { total: 0, running: 0, active: 0, error: 0 };
      c.total += row.n;
      if (["starting", "idle", "active"].includes(row.run_state)) c.running += row.n;
      if (row.run_state === "active") c.active += row.n;
      if (row.run_state === "error") c.error += row.n;
      counts.set(row.machine_id, c);
    }
    return (ctx.db.prepare("SELECT * FROM machines ORDER BY is_local DESC, name").all() as MachineRow[]).map((row) => ({
      id: row.id,
      name: row.name,
      hostname: row.hostname,
      platform: row.platform,
      release: row.release,
      arch: row.arch,
      agentVersion: row.agent_version,
      isLocal: row.is_local === 1,
      approval: row.approval,
      online: row.online === 1,
      lastHeartbeatAt: row.last_heartbeat_at,
      rttMs: row.is_local === 1 ? null : row.rtt_ms,
      versionMatches: row.agent_version === null ? null : row.agent_version === PACKAGE_VERSION,
      approvalReason: row.approval_reason,
      workers: counts.get(row.id) ?? { total: 0, running: 0, active: 0, error: 0 },
    }));
  },
});
