// The live-query tables: the names every read and write is recorded under, in one place, so a
// query and a mutation of the same rows cannot spell them differently (a typo does not compile).
export const TABLES = {
  users: "users",
  sessions: "sessions",
  audit: "audit_log",
  providers: "provider_configs",
  machines: "machines",
  workers: "workers",
  workerModels: "worker_models",
  chats: "chats",
  /** A chat's messages and their parts, keyed by chat id. */
  messages: "chat_messages",
  /** A chat's reply in progress (held in memory), keyed by chat id. */
  stream: "chat_stream",
  requests: "chat_requests",
  schedules: "schedules",
  scheduleRuns: "schedule_runs",
  jobRuns: "job_runs",
  checklists: "checklists",
  attendance: "attendance",
  discussions: "discussions",
  presentations: "presentations",
  /** The hub's network listener (one row). */
  hubSettings: "hub_settings",
  invites: "machine_invites",
  /** On a joined machine: its membership of a hub (one row). */
  membership: "hub_membership",
} as const;

export type Table = (typeof TABLES)[keyof typeof TABLES];
