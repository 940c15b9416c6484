// Turns written into an in-process hub (helpers/hub.ts) through the runtime's own write path
// (beginTurn, startReply, finishReply), as a finished OpenCode reply would be; and the three
// callers the hub's reading tests share.
import { finishReply, startReply, beginTurn } from "../../src/daemon/model/replies.js";
import type { PartView, TokenCounts } from "../../src/protocol/api/index.js";
import type { TestHub } from "./hub.js";

export type HubUser = ReturnType<TestHub["user"]>;

export interface FinishedTurn {
  /** The user's message ("go" unless said). */
  prompt?: string;
  /** The reply's parts (none unless said). */
  parts?: PartView[];
  /** The model that answered, on the reply as it starts and as it ends. */
  model?: string | null;
  tokens?: TokenCounts | null;
  cost?: number | null;
}

/** A whole turn: the prompt, then a completed reply with these parts and figures. */
export function writeTurn(hub: TestHub, chatId: string, turn: FinishedTurn = {}): { promptId: string; replyId: string } {
  const model = turn.model ?? null;
  const { messageId } = hub.dispatcher.runInternalMutation(beginTurn, { chatId, text: turn.prompt ?? "go", model: null });
  const reply = hub.dispatcher.runInternalMutation(startReply, { chatId, replyTo: messageId, model });
  hub.dispatcher.runInternalMutation(finishReply, {
    chatId,
    messageId: reply.id,
    status: "completed",
    parts: turn.parts ?? [],
    model,
    tokens: turn.tokens ?? null,
    cost: turn.cost ?? null,
    error: null,
    opencodeMessageIds: [],
  });
  return { promptId: messageId, replyId: reply.id };
}

/** Alice and Bob, two users, and root, an admin. */
export function aliceBobAndAdmin(hub: TestHub): { alice: HubUser; bob: HubUser; admin: HubUser } {
  return { alice: hub.user("alice"), bob: hub.user("bob"), admin: hub.user("root", "system_admin") };
}
