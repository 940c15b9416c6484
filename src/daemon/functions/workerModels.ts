// workerModels: the provider/model ids a worker's OpenCode offers, replaced each time it starts.
import { z } from "zod";
import { api, type ModelView } from "../../protocol/api/index.js";
import type { OpencodeModel } from "../agent/opencode.js";
import { defineInternalMutation, defineQuery } from "./define.js";
import { findWorker } from "./workers.js";

const TABLE = "worker_models";

export const list = defineQuery(api.workerModels.list, {
  access: "user",
  args: z.strictObject({ worker: z.string().trim().min(1, "must name a worker (id or name)") }),
  handler: (ctx, { worker }): ModelView[] => {
    const row = findWorker(ctx, worker);
    ctx.reads(TABLE, row.id);
    const models = ctx.db.prepare("SELECT * FROM worker_models WHERE worker_id = ? ORDER BY provider_id, model_id").all(row.id) as Array<{
      provider_id: string;
      provider_name: string;
      model_id: string;
      name: string;
      context_limit: number | null;
      output_limit: number | null;
      tool_call: number;
      is_default: number;
    }>;
    return models.map((m) => ({
      id: `${m.provider_id}/${m.model_id}`,
      providerId: m.provider_id,
      providerName: m.provider_name,
      modelId: m.model_id,
      name: m.name,
      contextLimit: m.context_limit,
      outputLimit: m.output_limit,
      toolCall: m.tool_call === 1,
      isDefault: m.is_default === 1,
    }));
  },
});

/** Replaces a worker's models with what its OpenCode just reported. */
export const recordModels = defineInternalMutation((ctx, args: { workerId: string; models: OpencodeModel[] }) => {
  if (!ctx.db.prepare("SELECT 1 FROM workers WHERE id = ?").get(args.workerId)) return;
  ctx.db.prepare("DELETE FROM worker_models WHERE worker_id = ?").run(args.workerId);
  const insert = ctx.db.prepare(
    `INSERT OR REPLACE INTO worker_models (worker_id, provider_id, provider_name, model_id, name, context_limit, output_limit, tool_call, is_default)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const m of args.models) {
    insert.run(args.workerId, m.providerId, m.providerName, m.modelId, m.name, m.contextLimit, m.outputLimit, m.toolCall ? 1 : 0, m.isDefault ? 1 : 0);
  }
  ctx.db.prepare("UPDATE workers SET models_refreshed_at = ?, updated_at = ? WHERE id = ?").run(ctx.now, ctx.now, args.workerId);
  ctx.writes(TABLE, args.workerId);
  ctx.writes("workers", args.workerId);
});
