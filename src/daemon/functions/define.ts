// How a daemon function is declared: its contract (from protocol/api), its access level,
// its zod argument schema and its handler. Dispatch enforces access and validates arguments;
// handlers never repeat either check.
import type { z } from "zod";
import type { ActionRef, ArgsOf, MutationRef, QueryRef, ResultOf } from "../../protocol/api/define.js";
import type { SessionProblem } from "../../protocol/frames.js";
import type { ChatId, MessageId, SessionId } from "../../protocol/ids.js";
import type { StatePaths } from "../../protocol/statefile.js";
import type { MessageView } from "../../protocol/api/index.js";
import type { AttemptLimiter } from "../accounts/limiter.js";
import type { AuthPolicy } from "../accounts/policy.js";
import type { HubLink } from "../agent/link.js";
import type { PromptArgs } from "../chat/send.js";
import type { SecretKeeper } from "../crypto.js";
import type { CleanupSettings } from "../jobs/cleanup.js";
import type { Dependency } from "../live.js";
import type { HubControl, MembershipControl } from "../hub/control.js";
import type { Logger } from "../log.js";
import type { CallerUser, InternalMutation, InternalQuery, ReadCtx, WriteCtx } from "../model/context.js";

export type { CallerUser, UserLevel } from "../model/context.js";

/**
 * public: anyone who completed the hello. local: a connection that proved it is this machine's
 * OS user (the daemon token), signed in or not. user: a signed-in user. admin: a system_admin.
 * machine: a machine agent linked to this hub. (Internal functions have no access level at all:
 * they are never in the registry; see model/context.ts.)
 */
export type Access = "public" | "local" | "user" | "admin" | "machine";

export const ACCESS_LEVELS: readonly Access[] = ["public", "local", "user", "admin", "machine"];

/** What a function may do to the connection it was called on. */
export interface ConnectionHandle {
  readonly id: number;
  /** The client's name from its hello ("ocfleet-cli", …), recorded on sessions it creates. */
  readonly clientName: string;
  /**
   * Signs the connection in with a session (or out, with null). In a mutation it takes effect
   * when the transaction commits; the connection's subscriptions then follow the new identity.
   */
  bindSession(sessionId: SessionId | null): void;
}

/** Who is calling, resolved again before every call and every live-query evaluation. */
export interface Caller {
  connectionId: number;
  /** Proved with the daemon token that it is this machine's OS user. */
  local: boolean;
  /** Where the connection comes from (an IP address), for rate limits. */
  source: string;
  user: CallerUser | null;
  session: { id: SessionId; expiresAt: number } | null;
  /** Why a session bound to this connection no longer signs it in. */
  sessionProblem?: SessionProblem;
  /**
   * Who this caller is for the purpose of what it may see ("session:ses_…", "local", "anonymous").
   * Live queries of callers with the same identity share one evaluation.
   */
  identity: string;
  /** Rows whose change alters who this caller is (its session, its user): live queries depend on them. */
  dependencies: readonly Dependency[];
  connection: ConnectionHandle;
}

/** Routes a command to the agent of the machine a worker (or a machine) is on. */
export interface WorkerRouting {
  /** The link to a machine's agent; `unavailable` when the machine is not connected. */
  linkFor(machineId: string): HubLink;
  linkForWorker(workerId: string): HubLink;
}

/** The turns in progress, and the one way a prompt is sent into a chat. */
export interface RunningTurns {
  /** The reply streaming in a chat now, if any. */
  streaming(chatId: ChatId): MessageView | null;
  isRunning(chatId: ChatId): boolean;
  send(args: PromptArgs): Promise<{ messageId: MessageId }>;
}

/** The timers of background work: the schedule runner and the cleanup jobs. */
export interface Timers {
  /** Schedules changed: recompute when the runner must next wake. */
  wakeScheduler(): void;
  readonly cleanup: CleanupSettings;
}

/**
 * Daemon-wide facilities that functions may use. Each is the narrow interface a handler needs;
 * the classes behind them (Fleet, ChatRuntime, BackgroundJobs) sit below this layer and are wired in core.ts.
 */
export interface DaemonServices {
  readonly paths: StatePaths;
  readonly startedAt: number;
  readonly log: Logger;
  readonly secrets: SecretKeeper;
  readonly fleet: WorkerRouting;
  readonly chat: RunningTurns;
  readonly jobs: Timers;
  /** The hub's network listener and the machines linked through it. */
  readonly hub: HubControl;
  /** This machine's membership of a remote hub. */
  readonly membership: MembershipControl;
  readonly authPolicy: AuthPolicy;
  /** Slows down and then refuses repeated wrong codes. */
  readonly codeAttempts: AttemptLimiter;
  listenAddress(): { host: string; port: number };
  connectionStats(): { connections: number; subscriptions: number };
  /** Begins a graceful shutdown after the current call has replied. */
  requestStop(reason: string): void;
}

type UserFor<A extends Access> = A extends "user" | "admin" ? CallerUser : CallerUser | null;

interface BaseCtx<A extends Access> {
  caller: Caller;
  /** The caller's user; never null for user and admin functions. */
  user: UserFor<A>;
  /** The connection the call came on. */
  connection: ConnectionHandle;
  services: DaemonServices;
  /** One clock reading per call, in ms since the epoch, so a call sees one consistent "now". */
  now: number;
}

/** A query's context: the data layer's ReadCtx, plus who calls and the daemon's services. */
export interface QueryCtx<A extends Access = Access> extends BaseCtx<A>, ReadCtx {}

export interface MutationCtx<A extends Access = Access> extends QueryCtx<A>, WriteCtx {}

/** A query or mutation an action may run: a public one, or an internal one (the data layer's, or its module's own). */
export type RunnableQuery<Args, R> = QueryDef<Args, R> | InternalQuery<Args, R, QueryCtx>;
export type RunnableMutation<Args, R> = MutationDef<Args, R> | InternalMutation<Args, R, MutationCtx>;

export interface ActionCtx<A extends Access = Access> extends BaseCtx<A> {
  /** Runs a query as the same caller. */
  runQuery<R, Args>(fn: RunnableQuery<Args, R>, args: Args): R;
  /** Runs a mutation as the same caller, in its own transaction. */
  runMutation<R, Args>(fn: RunnableMutation<Args, R>, args: Args): R;
}

interface DefBase<Args> {
  /** `module.function` on the wire. */
  name: string;
  access: Access;
  args: z.ZodType<Args>;
}

export interface QueryDef<Args = any, R = any> extends DefBase<Args> {
  kind: "query";
  handler(ctx: QueryCtx, args: Args): R;
}

export interface MutationDef<Args = any, R = any> extends DefBase<Args> {
  kind: "mutation";
  handler(ctx: MutationCtx, args: Args): R;
}

export interface ActionDef<Args = any, R = any> extends DefBase<Args> {
  kind: "action";
  handler(ctx: ActionCtx, args: Args): Promise<R>;
}

export type FunctionDef = QueryDef | MutationDef | ActionDef;

interface Spec<A extends Access, Args, Ctx, R> {
  access: A;
  args: z.ZodType<Args>;
  handler(ctx: Ctx, args: Args): R;
}

export function defineQuery<M extends QueryRef, A extends Access>(
  ref: M,
  spec: Spec<A, ArgsOf<M>, QueryCtx<A>, ResultOf<M>>,
): QueryDef<ArgsOf<M>, ResultOf<M>> {
  return { kind: "query", name: ref.name, ...spec } as QueryDef<ArgsOf<M>, ResultOf<M>>;
}

export function defineMutation<M extends MutationRef, A extends Access>(
  ref: M,
  spec: Spec<A, ArgsOf<M>, MutationCtx<A>, ResultOf<M>>,
): MutationDef<ArgsOf<M>, ResultOf<M>> {
  return { kind: "mutation", name: ref.name, ...spec } as MutationDef<ArgsOf<M>, ResultOf<M>>;
}

export function defineAction<M extends ActionRef, A extends Access>(
  ref: M,
  spec: Spec<A, ArgsOf<M>, ActionCtx<A>, Promise<ResultOf<M>>>,
): ActionDef<ArgsOf<M>, ResultOf<M>> {
  return { kind: "action", name: ref.name, ...spec } as ActionDef<ArgsOf<M>, ResultOf<M>>;
}

/**
 * A mutation private to its module, run by the module's actions as the same caller (it may use the
 * caller, the connection and the services). Never in the registry, so no client can reach it.
 */
export function defineInternalMutation<Args, R>(handler: (ctx: MutationCtx, args: Args) => R): InternalMutation<Args, R, MutationCtx> {
  return { kind: "mutation", internal: true, handler };
}

/** A query private to its module. */
export function defineInternalQuery<Args, R>(handler: (ctx: QueryCtx, args: Args) => R): InternalQuery<Args, R, QueryCtx> {
  return { kind: "query", internal: true, handler };
}
