// OpenCode's events and records in our own shape: the types the rest of the daemon sees, and the
// functions that map OpenCode's raw payloads to them. Part of the one OpenCode adapter (opencode.ts
// re-exports it); the one place that knows OpenCode's event names and payload fields.
import type { ModelView, PartView, QuestionView, TokenCounts, ToolStatus } from "../../protocol/api/index.js";
import { capDepth } from "../../protocol/json-depth.js";

/**
 * How deep a tool's input may nest as stored. A tool's input is what its schema takes, a few levels;
 * the model writes it, though, and a hostile one can nest it thousands deep. SQLite's JSON functions
 * (which the search index reads parts with) refuse text deeper than 1000 levels, so such a part could
 * not be saved and its reply stayed streaming; a machine link refuses frames deeper than 100
 * (MAX_FRAME_DEPTH). What lies deeper is kept as "[nested too deep]".
 */
export const MAX_TOOL_INPUT_DEPTH = 64;

/** A model a worker's OpenCode offers: the API's view of it, less the combined id. */
export type OpencodeModel = Omit<ModelView, "id">;

export type OpencodeSessionStatus = { type: "idle" } | { type: "busy" } | { type: "retry"; attempt: number; message: string; next: number };

/** An OpenCode message, reduced to what a transcript needs. */
export interface OpencodeMessage {
  id: string;
  sessionId: string;
  role: "user" | "assistant";
  /** For an assistant message: the user message it answers. */
  parentId: string | null;
  providerId: string | null;
  modelId: string | null;
  tokens: TokenCounts | null;
  cost: number | null;
  createdAt: number | null;
  completedAt: number | null;
  /** Why the model stopped: "stop", "tool-calls" (another step follows), "length"… */
  finish: string | null;
  error: { name: string; message: string } | null;
}

/** A part of a message, in our own shape; `other` covers step markers and kinds we do not show. */
export type OpencodePart = (PartView | { id: string; kind: "other"; type: string }) & { messageId: string };

export interface OpencodePermissionRequest {
  id: string;
  sessionId: string;
  name: string;
  patterns: string[];
  detail: string | null;
  /** For an edit or write: the change, as a unified diff. */
  diff: string | null;
  /** The directory the session works in (where a bash command runs). */
  directory: string | null;
}

export interface OpencodeQuestionRequest {
  id: string;
  sessionId: string;
  questions: QuestionView[];
}

/** One file a session changed, from OpenCode's session diff. */
export interface OpencodeFileDiff {
  path: string;
  added: number;
  removed: number;
  status: "added" | "deleted" | "modified" | null;
  patch: string;
}

/** OpenCode's events, reduced to what the product uses. Plain data, so they can cross a link. */
export type OpencodeEvent =
  | { type: "session.status"; sessionId: string; status: OpencodeSessionStatus }
  | { type: "session.idle"; sessionId: string }
  | { type: "session.error"; sessionId: string | null; error: { name: string; message: string } }
  | { type: "message.updated"; sessionId: string; message: OpencodeMessage }
  | { type: "part.updated"; sessionId: string; part: OpencodePart }
  | { type: "part.delta"; sessionId: string; messageId: string; partId: string; field: string; delta: string }
  | { type: "permission.asked"; sessionId: string; request: OpencodePermissionRequest }
  | { type: "permission.replied"; sessionId: string; requestId: string; reply: string }
  | { type: "question.asked"; sessionId: string; request: OpencodeQuestionRequest }
  | { type: "question.replied"; sessionId: string; requestId: string; rejected: boolean }
  /** The event stream is back after a break: whatever happened meanwhile was not seen. */
  | { type: "events.resumed"; sessionId: null };

/** One message of a session with its parts, as OpenCode has them now. */
export interface OpencodeMessageWithParts {
  message: OpencodeMessage;
  parts: OpencodePart[];
}

export function errorOf(raw: any): { name: string; message: string } | null {
  if (!raw) return null;
  return { name: String(raw.name ?? "Error"), message: String(raw.data?.message ?? raw.message ?? raw.name ?? "unknown error") };
}

export function toMessage(info: any): OpencodeMessage {
  const t = info.tokens;
  return {
    id: String(info.id),
    sessionId: String(info.sessionID),
    role: info.role === "assistant" ? "assistant" : "user",
    parentId: info.parentID ?? null,
    providerId: info.providerID ?? info.model?.providerID ?? null,
    modelId: info.modelID ?? info.model?.modelID ?? null,
    tokens: t
      ? { input: t.input ?? 0, output: t.output ?? 0, reasoning: t.reasoning ?? 0, cacheRead: t.cache?.read ?? 0, cacheWrite: t.cache?.write ?? 0 }
      : null,
    cost: typeof info.cost === "number" ? info.cost : null,
    createdAt: info.time?.created ?? null,
    completedAt: info.time?.completed ?? null,
    finish: info.finish ?? null,
    error: errorOf(info.error),
  };
}

export function toPart(part: any): OpencodePart {
  const base = { id: String(part.id), messageId: String(part.messageID) };
  switch (part.type) {
    case "text":
      return { ...base, kind: "text", text: String(part.text ?? "") };
    case "reasoning":
      return { ...base, kind: "reasoning", text: String(part.text ?? "") };
    case "tool": {
      const state = part.state ?? {};
      const status: ToolStatus = ["pending", "running", "completed", "error"].includes(state.status) ? state.status : "pending";
      return {
        ...base,
        kind: "tool",
        tool: String(part.tool),
        callId: String(part.callID ?? ""),
        status,
        title: state.title ?? null,
        input: state.input && typeof state.input === "object" ? (capDepth(state.input, MAX_TOOL_INPUT_DEPTH) as Record<string, unknown>) : {},
        output: typeof state.output === "string" ? state.output : null,
        error: typeof state.error === "string" ? state.error : null,
      };
    }
    case "patch":
      return { ...base, kind: "patch", files: Array.isArray(part.files) ? part.files.map(String) : [] };
    case "file":
      return { ...base, kind: "file", filename: part.filename ?? null, mime: part.mime ?? null };
    default:
      return { ...base, kind: "other", type: String(part.type) };
  }
}

/** Maps one raw OpenCode event to ours, or null for the many we do not use. */
export function normalizeEvent(raw: { type?: string; properties?: Record<string, any> }, directory: string | null = null): OpencodeEvent | null {
  const p = raw.properties ?? {};
  switch (raw.type) {
    case "session.status":
      return { type: "session.status", sessionId: p.sessionID, status: p.status };
    case "session.idle":
      return { type: "session.idle", sessionId: p.sessionID };
    case "session.error":
      return { type: "session.error", sessionId: p.sessionID ?? null, error: errorOf(p.error) ?? { name: "Error", message: "unknown error" } };
    case "message.updated":
      return p.info ? { type: "message.updated", sessionId: p.sessionID ?? p.info.sessionID, message: toMessage(p.info) } : null;
    case "message.part.updated":
      return p.part ? { type: "part.updated", sessionId: p.sessionID ?? p.part.sessionID, part: toPart(p.part) } : null;
    case "message.part.delta":
      return { type: "part.delta", sessionId: p.sessionID, messageId: p.messageID, partId: p.partID, field: p.field, delta: String(p.delta ?? "") };
    case "permission.asked": {
      const detail = typeof p.metadata?.command === "string" ? p.metadata.command : typeof p.metadata?.filepath === "string" ? p.metadata.filepath : null;
      return {
        type: "permission.asked",
        sessionId: p.sessionID,
        request: {
          id: String(p.id),
          sessionId: p.sessionID,
          name: String(p.permission ?? p.type ?? "permission"),
          patterns: (p.patterns ?? []).map(String),
          detail,
          diff: typeof p.metadata?.diff === "string" ? p.metadata.diff : null,
          directory,
        },
      };
    }
    case "permission.replied":
      return {
        type: "permission.replied",
        sessionId: p.sessionID,
        requestId: String(p.requestID ?? p.permissionID ?? p.id),
        reply: String(p.reply ?? p.response ?? ""),
      };
    case "question.asked":
      return {
        type: "question.asked",
        sessionId: p.sessionID,
        request: {
          id: String(p.id),
          sessionId: p.sessionID,
          questions: (p.questions ?? []).map((q: any) => ({
            question: String(q.question ?? ""),
            header: String(q.header ?? ""),
            options: (q.options ?? []).map((o: any) => ({ label: String(o.label ?? ""), description: String(o.description ?? "") })),
            multiple: q.multiple === true,
            custom: q.custom !== false,
          })),
        },
      };
    case "question.replied":
    case "question.rejected":
      return { type: "question.replied", sessionId: p.sessionID, requestId: String(p.requestID ?? p.id), rejected: raw.type === "question.rejected" };
    default:
      return null;
  }
}
