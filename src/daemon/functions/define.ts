// How a daemon function is declared: its contract (from protocol/api), its access level,
// its zod argument schema and its handler. Dispatch enforces access and validates arguments;
// handlers never repeat either check.
import type { z } from "zod";
import type { ActionRef, ArgsOf, MutationRef, QueryRef, ResultOf } from "../../protocol/api/define.js";
import type { SessionProblem } from "../../protocol/frames.js";
import type { SessionId, UserId } from "../../protocol/ids.js";
import type { StatePaths } from "../../protocol/statefile.js";
import type { AttemptLimiter } from "../accounts/limiter.js";
import type { AuthPolicy } from "../accounts/policy.js";
import type { SecretKeeper } from "../crypto.js";
import type { Db } from "../db/open.js";
import type { ChatRuntime } from "../chat/runtime.js";
import type { Fleet } from "../fleet.js";
import type { JobsHandle } from "../jobs/index.js";
import type { Dependency } from "../live.js";
import type { Logger } from "../log.js";

/**
 * public: anyone who completed the hello. local: a connection that proved it is this machine's
 * OS user (the daemon token), signed in or not. user: a signed-in user. admin: a system_admin.
 * machine: a machine agent linked to this hub.
 */
export type Access = "public" | "local" | "user" | "admin" | "machine";

export const ACCESS_LEVELS: readonly Access[] = ["public", "local", "user", "admin", "machine"];

export type UserLevel = "user" | "system_admin";

export interface CallerUser {
  id: UserId;
  name: string;
  level: UserLevel;
}

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

/** Daemon-wide facilities that functions may use. */
export interface DaemonServices {
  readonly paths: StatePaths;
  readonly startedAt: number;
  readonly log: Logger;
  readonly secrets: SecretKeeper;
  /** Routes commands to machines' agents. */
  readonly fleet: Fleet;
  /** Turns in progress: the streaming replies. */
  readonly chat: ChatRuntime;
  /** Background work: the schedule runner and the cleanup jobs. */
  readonly jobs: JobsHandle;
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

export interface QueryCtx<A extends Access = Access> extends BaseCtx<A> {
  db: Db;
  /** Records that this evaluation read (table, key); "*" or no key means the whole table. */
  reads(table: string, key?: string): void;
}

export interface MutationCtx<A extends Access = Access> extends QueryCtx<A> {
  /** Records that this transaction wrote (table, key), so readers of it are evaluated again. */
  writes(table: string, key?: string): void;
}

export interface ActionCtx<A extends Access = Access> extends BaseCtx<A> {
  /** Runs a query as the same caller. */
  runQuery<R, Args>(fn: QueryDef<Args, R>, args: Args): R;
  /** Runs a mutation as the same caller, in its own transaction. */
  runMutation<R, Args>(fn: MutationDef<Args, R>, args: Args): R;
}

interface DefBase<Args> {
  /** `module.function` on the wire; empty for internal functions, which are never dispatched. */
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

/** A mutation only the daemon itself runs (agent reports, timers); never reachable from a client. */
export function defineInternalMutation<Args, R>(handler: (ctx: MutationCtx, args: Args) => R): MutationDef<Args, R> {
  return { kind: "mutation", name: "", access: "machine", args: undefined as never, handler };
}

/** A query only the daemon itself runs. */
export function defineInternalQuery<Args, R>(handler: (ctx: QueryCtx, args: Args) => R): QueryDef<Args, R> {
  return { kind: "query", name: "", access: "machine", args: undefined as never, handler };
}
