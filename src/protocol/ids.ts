// Branded business ids: a random string with a type prefix, kept apart by the type system.
declare const idBrand: unique symbol;
export type Id<Prefix extends string> = string & { readonly [idBrand]: Prefix };

export const ID_PREFIXES = {
  user: "usr",
  session: "ses",
  machine: "mch",
  worker: "wrk",
  chat: "cht",
  message: "msg",
  checklist: "ckl",
  checklistItem: "cki",
  chatRequest: "req",
  loginRequest: "lrq",
  discussion: "dsc",
  discussionMessage: "dsm",
  presentation: "prs",
  schedule: "sch",
  scheduleRun: "run",
  invite: "inv",
  budget: "bdg",
  webhook: "whk",
  delivery: "dlv",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

export type UserId = Id<"usr">;
/** A login session (who is signed in), not a chat session and not an OpenCode session. */
export type SessionId = Id<"ses">;
export type MachineId = Id<"mch">;
export type WorkerId = Id<"wrk">;
export type ChatId = Id<"cht">;
export type MessageId = Id<"msg">;
export type ChecklistId = Id<"ckl">;
export type ChecklistItemId = Id<"cki">;
/** A permission or question request in a chat (ours, not OpenCode's per_…/que_… id). */
export type ChatRequestId = Id<"req">;
/** OpenCode's own session id (ses_… in OpenCode's format): never our login session or chat. */
export type OpencodeSessionId = string & { readonly opencodeSession: true };
/** A sign-in with an external provider (Google) in progress. */
export type LoginRequestId = Id<"lrq">;

export type DiscussionId = Id<"dsc">;
export type DiscussionMessageId = Id<"dsm">;
export type PresentationId = Id<"prs">;
export type ScheduleId = Id<"sch">;
export type ScheduleRunId = Id<"run">;
export type BudgetId = Id<"bdg">;
export type WebhookId = Id<"whk">;
export type DeliveryId = Id<"dlv">;

/** The random part: lowercase Crockford-style base32, 16 characters (80 bits). */
export const ID_BODY_PATTERN = "[0-9a-hjkmnp-tv-z]{16}";

const idPatterns = new Map<IdKind, RegExp>();

/** Whether `value` has the shape of an id of that kind (checked on hot paths: the patterns are built once). */
export function looksLikeId(kind: IdKind, value: string): boolean {
  let pattern = idPatterns.get(kind);
  if (!pattern) idPatterns.set(kind, (pattern = new RegExp(`^${ID_PREFIXES[kind]}_${ID_BODY_PATTERN}$`)));
  return pattern.test(value);
}
