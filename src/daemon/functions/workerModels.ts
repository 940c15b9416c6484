// workerModels: the provider/model ids a worker's OpenCode offers, replaced each time it starts.
import { z } from "zod";
import { api, type ModelView } from "../../protocol/api/index.js";
import { TABLES } from "../model/tables.js";
import { findWorkerFor } from "../model/workerAccess.js";
import { defineQuery } from "./define.js";

export const list = defineQuery(api.workerModels.list, {
  access: "user",
  args: z.strictObject({ worker: z.string().trim().min(1, "must name a worker (id or name)") }),
  handler: (ctx, { worker }): ModelView[] => {
    const { row } = findWorkerFor(ctx, ctx.user, worker);
    ctx.reads(TABLES.workerModels, row.id);
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
