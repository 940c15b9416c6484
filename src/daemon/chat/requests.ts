// OpenCode's permission and question requests in a chat, recorded as they are asked and answered
// (recording is idempotent: requests read back after a break in the event stream come again).
import type { ChatId } from "../../protocol/ids.js";
import type { OpencodeEvent } from "../agent/opencode.js";
import type { InternalRunner } from "../model/context.js";
import { recordRequest, resolveRequest } from "../model/replies.js";

type RequestEvent = Extract<OpencodeEvent, { type: "permission.asked" | "question.asked" | "permission.replied" | "question.replied" }>;

export function isRequestEvent(event: OpencodeEvent): event is RequestEvent {
  return event.type === "permission.asked" || event.type === "question.asked" || event.type === "permission.replied" || event.type === "question.replied";
}

/** Records a request event of the chat; returns the kind of a request asked for the first time, else null. */
export function recordRequestEvent(runMutation: InternalRunner["runMutation"], chatId: ChatId, event: RequestEvent): "permission" | "question" | null {
  switch (event.type) {
    case "permission.asked": {
      const { name, patterns, detail, diff, directory } = event.request;
      const payload = { permission: { name, patterns, detail, diff, directory } };
      return runMutation(recordRequest, { chatId, opencodeRequestId: event.request.id, kind: "permission", payload }) ? "permission" : null;
    }
    case "question.asked": {
      const payload = { questions: event.request.questions };
      return runMutation(recordRequest, { chatId, opencodeRequestId: event.request.id, kind: "question", payload }) ? "question" : null;
    }
    case "permission.replied": {
      const status = event.reply === "reject" ? "rejected" : "answered";
      runMutation(resolveRequest, { chatId, opencodeRequestId: event.requestId, status, answer: event.reply, userId: null });
      return null;
    }
    case "question.replied":
      runMutation(resolveRequest, { chatId, opencodeRequestId: event.requestId, status: event.rejected ? "rejected" : "answered", answer: null, userId: null });
      return null;
  }
}
