// The daemon's parts wired together: live queries, the dispatcher, the fleet, the chat runtime and
// the background jobs. One wiring for the daemon process and for the tests that drive it in process,
// so the two cannot drift apart.
import { FleetError } from "../protocol/errors.js";
import type { StatePaths } from "../protocol/statefile.js";
import { AttemptLimiter } from "./accounts/limiter.js";
import type { AuthPolicy } from "./accounts/policy.js";
import { ChatRuntime } from "./chat/runtime.js";
import { sendPrompt, type PromptArgs } from "./chat/send.js";
import type { SecretKeeper } from "./crypto.js";
import type { Db } from "./db/open.js";
import { Dispatcher } from "./dispatch.js";
import { Fleet, type FleetDeps } from "./fleet.js";
import type { DaemonServices } from "./functions/define.js";
import type { MembershipControl } from "./hub/control.js";
import { Hub } from "./hub/hub.js";
import { buildRegistry } from "./functions/index.js";
import { BackgroundJobs, type CleanupSettings } from "./jobs/index.js";
import { LiveQueries } from "./live.js";
import { WriteCheck, writeCheckEnabled } from "./model/write-check.js";
import { Notifier } from "./notify/notifier.js";
import type { Logger } from "./log.js";

export interface DaemonCoreOptions {
  db: Db;
  paths: StatePaths;
  log: Logger;
  secrets: SecretKeeper;
  authPolicy: AuthPolicy;
  startedAt: number;
  chat: { maxRetries: number; inactiveAfterMs: number; stallMs?: number };
  cleanup: CleanupSettings;
  /** What the daemon knows of its server and how it stops; the server starts after this wiring. */
  process: Pick<DaemonServices, "listenAddress" | "connectionStats" | "requestStop">;
  /** Machines' links: how often the hub pings, how long a command may take. */
  link?: { pingEveryMs?: number; commandTimeoutMs?: number; offlineAfterMs?: number };
  /** The clock for calls and jobs; tests move their own. Defaults to Date.now. */
  now?: () => number;
}

export interface DaemonCore {
  live: LiveQueries;
  dispatcher: Dispatcher;
  fleet: Fleet;
  chat: ChatRuntime;
  jobs: BackgroundJobs;
  /** The network listener and machines' links; it listens only once enabled. */
  hub: Hub;
  /** This machine's membership of a remote hub, bound once the agent exists (tests in process have none). */
  bindMembership(membership: MembershipControl): void;
  notifier: Notifier;
  services: DaemonServices;
}

/** Before an agent exists there is nothing to join with. */
const NO_AGENT: MembershipControl = {
  join: () => Promise.reject(new FleetError("unavailable", "this daemon runs no agent")),
  leave: () => Promise.resolve({ left: false }),
};

export function wireDaemonCore(options: DaemonCoreOptions): DaemonCore {
  const { db, log, secrets, authPolicy } = options;
  // Daemon-side code runs internal functions through the dispatcher, so their writes reach live queries.
  const runMutation: FleetDeps["runMutation"] = (def, args) => dispatcher.runInternalMutation(def, args);
  const runQuery: FleetDeps["runQuery"] = (def, args) => dispatcher.runInternalQuery(def, args);
  // The one path a prompt takes into a chat, for chat.send and for scheduled prompts alike.
  const send = (args: PromptArgs) => sendPrompt({ run: { runQuery, runMutation }, turns: chat, fleet }, args);
  const live = new LiveQueries();
  const fleet = new Fleet({ log, secrets, runMutation, runQuery, offlineAfterMs: options.link?.offlineAfterMs });
  const chat = new ChatRuntime({ log, fleet, runMutation, runQuery, changed: (table, key) => live.changed([[table, key]]), ...options.chat });
  // Webhooks and desktop notifications, from the runtime's turn-finished and request-asked events.
  const notifier = new Notifier({ run: { runQuery, runMutation }, secrets, log, retryMs: Number(process.env.OCFLEET_NOTIFY_RETRY_MS) || undefined });
  notifier.attach(chat);
  // Scheduled prompts are sent as their owner, through the same path as chat.send.
  const jobs = new BackgroundJobs({
    log,
    chat,
    runMutation,
    runQuery,
    send,
    cleanup: options.cleanup,
    now: options.now,
  });
  const hub = new Hub({
    home: options.paths.home,
    log,
    run: { runQuery, runMutation },
    fleet,
    secrets,
    pingEveryMs: options.link?.pingEveryMs,
    commandTimeoutMs: options.link?.commandTimeoutMs,
  });
  let membership = NO_AGENT;
  const services: DaemonServices = {
    paths: options.paths,
    startedAt: options.startedAt,
    log,
    secrets,
    fleet,
    chat: { streaming: (chatId) => chat.streaming(chatId), isRunning: (chatId) => chat.isRunning(chatId), send },
    jobs,
    hub,
    membership: { join: (token, name) => membership.join(token, name), leave: () => membership.leave() },
    authPolicy,
    codeAttempts: new AttemptLimiter(authPolicy),
    ...options.process,
  };
  const writeCheck = writeCheckEnabled() ? new WriteCheck(db) : undefined;
  const dispatcher = new Dispatcher({ db, live, services, registry: buildRegistry(), log, clock: options.now, writeCheck });
  return { live, dispatcher, fleet, chat, jobs, hub, bindMembership: (bound) => (membership = bound), notifier, services };
}
