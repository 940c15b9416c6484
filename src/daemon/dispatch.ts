// Dispatch: the one place where a call is resolved, its access level enforced, its arguments
// validated, and its handler run in the right way for its kind.
import type { z } from "zod";
import { FleetError, type ErrorPayload } from "../protocol/errors.js";
import type { SessionId } from "../protocol/ids.js";
import type { Db } from "./db/open.js";
import { storeFault } from "./db/store-fault.js";
import type { ActionCtx, ActionDef, Caller, DaemonServices, FunctionDef, MutationCtx, QueryCtx, RunnableMutation, RunnableQuery } from "./functions/define.js";
import type { InternalMutation, InternalQuery } from "./model/context.js";
import type { WriteCheck } from "./model/write-check.js";
import { DependencySet, type Delivery, type Dependency, type LiveQueries, type LiveQuery } from "./live.js";
import type { Logger } from "./log.js";

export interface DispatcherDeps {
  db: Db;
  live: LiveQueries;
  services: DaemonServices;
  registry: Map<string, FunctionDef>;
  log: Logger;
  clock?: () => number;
  /** Fails a mutation that changed rows it did not declare (tests turn it on). */
  writeCheck?: WriteCheck;
}

/** Errors the caller may see as they are; anything else is logged and reported as `internal`. */
export function toErrorPayload(err: unknown, log?: Logger, context?: Record<string, unknown>): ErrorPayload {
  if (err instanceof FleetError) return err.toPayload();
  // A full or failing disk is no bug: the caller hears what happened and what to do (db/store-fault.ts).
  const fault = storeFault(err);
  if (fault) {
    log?.error("the store refused a write", { ...context, error: fault });
    return { code: "unavailable", message: fault };
  }
  log?.error("unexpected error", { ...context, error: err });
  return { code: "internal", message: "internal error in the daemon (details are in its log: ocfleet daemon logs)" };
}

/** The daemon acting on its own behalf. */
const SYSTEM_CALLER: Caller = {
  connectionId: 0,
  local: false,
  source: "daemon",
  user: null,
  session: null,
  identity: "system",
  dependencies: [],
  connection: { id: 0, clientName: "daemon", bindSession: () => {} },
};

export class Dispatcher {
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly clock: () => number;

  constructor(private readonly deps: DispatcherDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  /** Runs one call to completion. Throws FleetError for anything the caller should hear about. */
  async call(caller: Caller, method: string, rawArgs: unknown): Promise<unknown> {
    const def = this.resolve(method);
    authorize(def, caller);
    const args = validate(def, rawArgs);
    switch (def.kind) {
      case "query":
        return this.runQuery(def, caller, args, new DependencySet());
      case "mutation":
        return this.runMutation(def, caller, args);
      case "action": {
        const running = this.runAction(def, caller, args);
        this.inFlight.add(running);
        try {
          return await running;
        } finally {
          this.inFlight.delete(running);
        }
      }
    }
  }

  /**
   * Starts a live query. `currentCaller` is asked again at every evaluation, so a caller who
   * loses access stops getting data at once. Bad method or arguments throw synchronously.
   */
  subscribe(
    currentCaller: () => Caller,
    method: string,
    rawArgs: unknown,
    deliver: (d: Delivery) => void,
    options: { authorizeNow?: boolean } = {},
  ): LiveQuery {
    const def = this.resolve(method);
    if (def.kind !== "query") throw new FleetError("invalid_argument", `${method} is a ${def.kind}; only queries can be subscribed to`);
    const subscriber = currentCaller();
    // A new subscription is refused outright; one that moves to a new identity stays open and
    // reports the refusal as an error delivery instead, recovering when access returns.
    if (options.authorizeNow !== false) authorize(def, subscriber);
    const args = validate(def, rawArgs);
    const query: LiveQuery = {
      key: `${def.name}\u0000${JSON.stringify(args)}\u0000${subscriber.identity}`,
      evaluate: (reads) => {
        const caller = currentCaller();
        // Who the caller is depends on its session and user rows: revoking the session or changing
        // the user's level re-evaluates the query, so a revoked caller gets an error at once.
        for (const [table, key] of caller.dependencies) reads.add(table, key);
        authorize(def, caller);
        return this.runQuery(def, caller, args, reads);
      },
      deliver,
    };
    this.deps.live.add(query);
    return query;
  }

  /** Runs a mutation as the daemon itself (agent reports, timers), with its writes reaching live queries. */
  runInternalMutation<A, R>(def: InternalMutation<A, R>, args: A): R {
    return this.runMutation(def, SYSTEM_CALLER, args) as R;
  }

  runInternalQuery<A, R>(def: InternalQuery<A, R>, args: A): R {
    return this.runQuery(def, SYSTEM_CALLER, args, new DependencySet()) as R;
  }

  unsubscribe(query: LiveQuery): void {
    this.deps.live.remove(query);
  }

  /** Calls `onWrite` once, synchronously, at the first reported write to any of `deps` (a connection's cached caller). */
  onNextWrite(deps: readonly Dependency[], onWrite: () => void): () => void {
    return this.deps.live.onNextWrite(deps, onWrite);
  }

  /** Waits for running actions to finish, up to the timeout. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.inFlight.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const settled = Promise.allSettled([...this.inFlight]).then(() => true as const);
    const drained = await Promise.race([settled, timedOut]);
    clearTimeout(timer);
    return drained;
  }

  private resolve(method: string): FunctionDef {
    const def = this.deps.registry.get(method);
    if (!def) throw new FleetError("unknown_method", `unknown method '${method}'`, { method });
    return def;
  }

  private baseCtx(caller: Caller) {
    return { caller, user: caller.user, connection: caller.connection, services: this.deps.services, now: this.clock() };
  }

  private runQuery(def: RunnableQuery<any, any>, caller: Caller, args: unknown, reads: DependencySet): unknown {
    const ctx: QueryCtx = {
      ...this.baseCtx(caller),
      db: this.deps.db,
      reads: (table, key) => reads.add(table, key),
    };
    return def.handler(ctx, args);
  }

  private runMutation(def: RunnableMutation<any, any>, caller: Caller, args: unknown): unknown {
    const writes = new DependencySet();
    const unseen = new Set<string>();
    // A session bound during the transaction applies only once it has committed.
    let binding: { sessionId: SessionId | null } | undefined;
    const ctx: MutationCtx = {
      ...this.baseCtx(caller),
      connection: {
        id: caller.connection.id,
        clientName: caller.connection.clientName,
        bindSession: (sessionId) => (binding = { sessionId }),
      },
      db: this.deps.db,
      reads: () => {},
      writes: (table, key) => writes.add(table, key),
      writesUnseen: (table) => unseen.add(table),
    };
    const name = "name" in def ? def.name : "(internal)";
    const check = this.deps.writeCheck;
    const result = this.deps.db
      .transaction(() => {
        check?.begin();
        const value: unknown = def.handler(ctx, args);
        if (value instanceof Promise) throw new Error(`mutation ${name} returned a promise; mutations must be synchronous`);
        check?.verify(name, new Set([...writes.byTable.keys(), ...unseen]));
        return value;
      })
      .immediate();
    if (binding) caller.connection.bindSession(binding.sessionId);
    this.deps.live.changed(writes.entries());
    return result;
  }

  private runAction(def: ActionDef, caller: Caller, args: unknown): Promise<unknown> {
    const ctx: ActionCtx = {
      ...this.baseCtx(caller),
      runQuery: (fn, fnArgs) => this.runQuery(fn, caller, fnArgs, new DependencySet()) as never,
      runMutation: (fn, fnArgs) => this.runMutation(fn, caller, fnArgs) as never,
    };
    return def.handler(ctx, args);
  }
}

/** Why a caller is not signed in, in words that say what to do next. */
function notSignedIn(def: Pick<FunctionDef, "name">, caller: Caller): FleetError {
  const why =
    caller.sessionProblem === "revoked"
      ? "your session was revoked"
      : caller.sessionProblem === "expired"
        ? "your session has expired"
        : caller.sessionProblem === "unknown"
          ? "your session is not known to this daemon"
          : "you are not signed in";
  return new FleetError("unauthenticated", `${def.name} needs a signed-in user: ${why}; sign in with: ocfleet login`, {
    sessionProblem: caller.sessionProblem ?? null,
  });
}

/** The one place where access levels are enforced. Handlers never repeat these checks. */
export function authorize(def: Pick<FunctionDef, "name" | "access">, caller: Caller): void {
  switch (def.access) {
    case "public":
      return;
    case "local":
      if (!caller.local) throw new FleetError("permission_denied", `${def.name} can only be called on this machine, by the OS user who runs the daemon`);
      return;
    case "user":
      if (!caller.user) throw notSignedIn(def, caller);
      return;
    case "admin":
      if (!caller.user) throw notSignedIn(def, caller);
      if (caller.user.level !== "system_admin") {
        throw new FleetError(
          "permission_denied",
          `${def.name} is for admins only; an admin can make you one with: ocfleet admin users set-level ${caller.user.name} system_admin`,
        );
      }
      return;
    case "machine":
      throw new FleetError("permission_denied", `${def.name} is for linked machines only`);
  }
}

/** Parses the arguments, or names the first bad field in an invalid_argument error. */
function validate(def: FunctionDef, rawArgs: unknown): unknown {
  const parsed = (def.args as z.ZodType).safeParse(rawArgs ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => {
    // An unknown key has an empty path; name the key itself, since that is what the caller got wrong.
    const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]!] : issue.path;
    return { field: path.length > 0 ? path.map(String).join(".") : "(arguments)", message: issue.message };
  });
  const first = issues[0]!;
  // The message is for people (the field and what is wrong); the method stays in the data, for --json and logs.
  throw new FleetError("invalid_argument", `${first.field}: ${first.message}`, { method: def.name, field: first.field, issues });
}
