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
  budgets: "budgets",
  /** A user's webhooks, delivery log and desktop setting, keyed by user id. */
  notify: "notify",
} as const;

export type Table = (typeof TABLES)[keyof typeof TABLES];

/**
 * The live-query table under which a change to each SQL table must be declared (`ctx.writes`).
 * null: no live query reads it (codes, sign-in requests, crash-recovery chunks, the agent's own
 * process records). The write check (model/write-check.ts) uses this; a new SQL table must be
 * added here, or the check refuses the first mutation that touches it.
 */
export const LIVE_TABLE_OF_SQL: Readonly<Record<string, Table | null>> = {
  users: TABLES.users,
  identities: TABLES.users,
  recovery_codes: null,
  sessions: TABLES.sessions,
  login_codes: null,
  login_requests: null,
  audit_log: TABLES.audit,
  provider_configs: TABLES.providers,
  machines: TABLES.machines,
  workers: TABLES.workers,
  worker_processes: null,
  worker_models: TABLES.workerModels,
  worker_shares: TABLES.workers,
  chats: TABLES.chats,
  messages: TABLES.messages,
  message_parts: TABLES.messages,
  stream_chunks: null,
  chat_requests: TABLES.requests,
  schedules: TABLES.schedules,
  schedule_runs: TABLES.scheduleRuns,
  job_runs: TABLES.jobRuns,
  checklists: TABLES.checklists,
  checklist_items: TABLES.checklists,
  attendance_sheets: TABLES.attendance,
  attendance_entries: TABLES.attendance,
  discussions: TABLES.discussions,
  discussion_messages: TABLES.discussions,
  discussion_conclusions: TABLES.discussions,
  presentations: TABLES.presentations,
  presentation_slides: TABLES.presentations,
  hub_settings: TABLES.hubSettings,
  machine_invites: TABLES.invites,
  hub_membership: TABLES.membership,
  // The agent's outbox: written by the dialer, read by nobody's live query.
  link_outbox: null,
  budgets: TABLES.budgets,
  webhooks: TABLES.notify,
  notify_deliveries: TABLES.notify,
  notify_settings: TABLES.notify,
};
