// The worker_models table: what each worker's OpenCode offers, replaced when the agent reports it.
import type { OpencodeModel } from "../agent/opencode.js";
import { internalMutation } from "./context.js";
import { TABLES } from "./tables.js";

/** Replaces a worker's models with what its OpenCode just reported, if the worker is on the reporting machine. */
export const recordModels = internalMutation((ctx, args: { machineId: string; workerId: string; models: OpencodeModel[] }) => {
  if (!ctx.db.prepare("SELECT 1 FROM workers WHERE id = ? AND machine_id = ?").get(args.workerId, args.machineId)) return;
  ctx.db.prepare("DELETE FROM worker_models WHERE worker_id = ?").run(args.workerId);
  const insert = ctx.db.prepare(
    `INSERT OR REPLACE INTO worker_models (worker_id, provider_id, provider_name, model_id, name, context_limit, output_limit, tool_call, is_default)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const m of args.models) {
    insert.run(args.workerId, m.providerId, m.providerName, m.modelId, m.name, m.contextLimit, m.outputLimit, m.toolCall ? 1 : 0, m.isDefault ? 1 : 0);
  }
  ctx.db.prepare("UPDATE workers SET models_refreshed_at = ?, updated_at = ? WHERE id = ?").run(ctx.now, ctx.now, args.workerId);
  ctx.writes(TABLES.workerModels, args.workerId);
  ctx.writes(TABLES.workers, args.workerId);
});
