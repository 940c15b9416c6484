// A long-lived client (watch commands, the TUI): survives daemon restarts by reconnecting
// and re-subscribing, so every live query comes back with the current state.
import type { ArgsOf, MethodRef, QueryRef, ResultOf } from "../protocol/api/define.js";
import { FleetError } from "../protocol/errors.js";
import type { FleetConnection, Subscription, SubscriptionHandlers } from "./connection.js";

export type ConnectionStatus = "open" | "reconnecting" | "closed";

export interface ConnectionState {
  status: ConnectionStatus;
  /** Reconnect attempts since the connection was last open. */
  attempt: number;
  /** Why the last connection or attempt failed. */
  lastError?: string;
}

interface LiveSubscription {
  ref: QueryRef;
  args: unknown;
  handlers: SubscriptionHandlers<unknown>;
  current: Subscription | undefined;
}

const MAX_BACKOFF_MS = 2000;

export class FleetClient {
  private connection: FleetConnection;
  private readonly subscriptions = new Set<LiveSubscription>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private state: ConnectionState = { status: "open", attempt: 0 };
  /** Latest values of prefetched queries, by method and arguments. */
  private readonly cache = new Map<string, unknown>();
  private retryTimer: NodeJS.Timeout | undefined;

  /** `reconnect` opens a new connection to the same daemon; it should not start one. */
  constructor(
    connection: FleetConnection,
    private readonly reconnect: () => Promise<FleetConnection>,
  ) {
    this.connection = connection;
    this.watch(connection);
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  get welcome() {
    return this.connection.welcome;
  }

  call<M extends MethodRef>(ref: M, args: ArgsOf<M>, options?: { timeoutMs?: number }): Promise<ResultOf<M>> {
    if (this.state.status !== "open") {
      return Promise.reject(new FleetError("unavailable", "not connected to the daemon (reconnecting)"));
    }
    return this.connection.call(ref, args, options);
  }

  /** A subscription that lasts across reconnects; after each reconnect onValue gets the current value. */
  subscribe<M extends QueryRef>(ref: M, args: ArgsOf<M>, handlers: SubscriptionHandlers<ResultOf<M>>): Subscription {
    const live: LiveSubscription = { ref, args, handlers: handlers as SubscriptionHandlers<unknown>, current: undefined };
    this.subscriptions.add(live);
    if (this.state.status === "open") live.current = this.subscribeOn(this.connection, live);
    return {
      unsubscribe: () => {
        this.subscriptions.delete(live);
        live.current?.unsubscribe();
      },
    };
  }

  /**
   * Subscribes now and keeps the latest value, so a screen that asks for the same query later
   * (peek) has data on its first render. Used while a UI's code is still loading.
   */
  prefetch<M extends QueryRef>(ref: M, args: ArgsOf<M>): void {
    const key = `${ref.name}\u0000${JSON.stringify(args)}`;
    if (this.cache.has(key)) return;
    this.cache.set(key, undefined);
    this.subscribe(ref, args, { onValue: (value) => this.cache.set(key, value) });
  }

  /** The latest value of a prefetched query, or undefined. */
  peek<M extends QueryRef>(ref: M, args: ArgsOf<M>): ResultOf<M> | undefined {
    return this.cache.get(`${ref.name}\u0000${JSON.stringify(args)}`) as ResultOf<M> | undefined;
  }

  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  close(): void {
    clearTimeout(this.retryTimer);
    this.setState({ status: "closed", attempt: 0 });
    this.connection.close();
  }

  /** Subscribes on one connection; its closing is not an error here, since this client reconnects. */
  private subscribeOn(connection: FleetConnection, live: LiveSubscription): Subscription {
    return connection.subscribe(live.ref as QueryRef, live.args as never, {
      onValue: (value) => live.handlers.onValue(value),
      onError: (error) => {
        if (connection.isOpen) live.handlers.onError?.(error);
      },
    });
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private watch(connection: FleetConnection): void {
    connection.onClose((reason) => {
      if (this.state.status === "closed") return;
      for (const live of this.subscriptions) live.current = undefined;
      this.setState({ status: "reconnecting", attempt: 0, lastError: reason.message });
      this.scheduleRetry();
    });
  }

  private scheduleRetry(): void {
    const attempt = this.state.attempt;
    const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
    this.retryTimer = setTimeout(() => void this.retry(), delay);
  }

  private async retry(): Promise<void> {
    if (this.state.status !== "reconnecting") return;
    try {
      const connection = await this.reconnect();
      if (this.state.status !== "reconnecting") return connection.close();
      this.connection = connection;
      this.watch(connection);
      this.setState({ status: "open", attempt: 0 });
      for (const live of this.subscriptions) live.current = this.subscribeOn(connection, live);
    } catch (err) {
      if (this.state.status !== "reconnecting") return;
      const message = err instanceof Error ? err.message : String(err);
      this.setState({ status: "reconnecting", attempt: this.state.attempt + 1, lastError: message });
      this.scheduleRetry();
    }
  }
}
