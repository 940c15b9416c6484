// Who a connection's caller is. Resolving the session reads the database, so the answer is kept
// until a write to its session or user row is reported (revocation, expiry by the cleanup job, a
// level change, a rename, disabling) or until the session is due to expire or slide, whichever is first.
import type { SessionProblem } from "../protocol/frames.js";
import type { SessionId } from "../protocol/ids.js";
import type { ResolvedSession } from "./accounts/sessions.js";
import { SESSIONS_TABLE } from "./accounts/sessions.js";
import { USERS_TABLE } from "./accounts/users.js";
import type { Caller, ConnectionHandle } from "./functions/define.js";
import type { Dependency } from "./live.js";

export interface CallerSources {
  /** The user behind a session id, now (it may have been revoked or expired since). */
  resolveSession(id: SessionId): ResolvedSession;
  /** Calls `onWrite` once, synchronously, at the first reported write to any of `deps`; returns a cancel. */
  onNextWrite(deps: readonly Dependency[], onWrite: () => void): () => void;
}

export class ConnectionCaller {
  /** Proved with the daemon token that it is this machine's OS user. */
  private local = false;
  private sessionId: SessionId | null = null;
  /** Why the session presented at hello was refused; cleared by the next sign-in. */
  private helloProblem: SessionProblem | undefined;
  private cached: Caller | undefined;
  private recheckAt = Number.POSITIVE_INFINITY;
  private stopWatching: (() => void) | undefined;

  constructor(
    private readonly connection: ConnectionHandle,
    private readonly source: string,
    private readonly sources: CallerSources,
  ) {}

  /** At the hello: whether the daemon token was shown, and the session presented (or why it was refused). */
  hello(local: boolean, session: { id: SessionId } | { problem: SessionProblem } | undefined): void {
    this.local = local;
    this.sessionId = session && "id" in session ? session.id : null;
    this.helloProblem = session && "problem" in session ? session.problem : undefined;
    this.forget();
  }

  /** Signs in (or out, with null). */
  bind(sessionId: SessionId | null): void {
    this.sessionId = sessionId;
    this.helloProblem = undefined;
    this.forget();
  }

  /** Who is calling now: a revoked or expired session signs the connection out at once. */
  current(): Caller {
    if (this.cached && Date.now() < this.recheckAt) return this.cached;
    this.forget();
    let user: Caller["user"] = null;
    let session: Caller["session"] = null;
    let sessionProblem = this.helloProblem;
    const dependencies: Dependency[] = [];
    if (this.sessionId) {
      const resolved = this.sources.resolveSession(this.sessionId);
      dependencies.push([SESSIONS_TABLE, this.sessionId]);
      if ("problem" in resolved) {
        sessionProblem = resolved.problem;
      } else {
        ({ user, session } = resolved);
        sessionProblem = undefined;
        dependencies.push([USERS_TABLE, user.id]);
        this.recheckAt = resolved.recheckAt;
      }
      this.stopWatching = this.sources.onNextWrite(dependencies, () => {
        this.stopWatching = undefined;
        this.cached = undefined;
      });
    }
    this.cached = {
      connectionId: this.connection.id,
      local: this.local,
      source: this.source,
      user,
      session,
      sessionProblem,
      identity: this.sessionId ? `session:${this.sessionId}` : this.local ? "local" : "anonymous",
      dependencies,
      connection: this.connection,
    };
    return this.cached;
  }

  /** Drops the kept answer; the next `current()` resolves again. */
  forget(): void {
    this.stopWatching?.();
    this.stopWatching = undefined;
    this.cached = undefined;
    this.recheckAt = Number.POSITIVE_INFINITY;
  }
}
