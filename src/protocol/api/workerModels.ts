// The models a worker's OpenCode offers, refreshed each time it starts.
import { defineModule, query } from "./define.js";

export interface ModelView {
  /** provider/model, as OpenCode and `--model` take it. */
  id: string;
  providerId: string;
  providerName: string;
  modelId: string;
  name: string;
  contextLimit: number | null;
  outputLimit: number | null;
  toolCall: boolean;
  isDefault: boolean;
}

export const workerModels = defineModule("workerModels", {
  list: query<{ worker: string }, ModelView[]>(),
});
