// One WebSocket connection to a daemon: hello, typed calls, and live subscriptions.
import type { ArgsOf, MethodRef, QueryRef, ResultOf } from "../protocol/api/define.js";
import { FleetError } from "../protocol/errors.js";
import type { ClientFrame, HelloFrame, ServerFrame, WelcomeFrame } from "../protocol/frames.js";
import { applyPatch } from "../protocol/patch.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../protocol/version.js";
import { MiniWebSocket, type UpgradeError } from "./websocket.js";

export interface ConnectOptions {
  host: string;
  port: number;
  token: string;
  /** A session token from an earlier sign-in; the welcome says whether it still works. */
  session?: string;
  /** Shown in the daemon's log; e.g. "ocfleet-cli". */
  clientName?: string;
  /** For the TCP connect and the hello together. */
  timeoutMs?: number;
}

export interface SubscriptionHandlers<R> {
  onValue(value: R): void;
  onError?(error: FleetError): void;
}

export interface Subscription {
  unsubscribe(): void;
}

interface PendingCall {
  resolve(value: unknown): void;
  reject(err: FleetError): void;
  timer: NodeJS.Timeout | undefined;
}

interface ActiveSubscription {
  value: unknown;
  hasValue: boolean;
  handlers: SubscriptionHandlers<unknown>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** What a connection needs of its socket: the loopback MiniWebSocket, or `ws` for a remote hub. */
export interface ClientSocket {
  on(event: "message", listener: (text: string) => void): unknown;
  on(event: "close", listener: (code: number, reason: string) => void): unknown;
  once(event: "message", listener: (text: string) => void): unknown;
  once(event: "close", listener: (code: number, reason: string) => void): unknown;
  removeAllListeners(): unknown;
  send(text: string): void;
  terminate(): void;
}

export class FleetConnection {
  private nextId = 1;
  private readonly pending = new Map<number, PendingCall>();
  private readonly subscriptions = new Map<number, ActiveSubscription>();
  private readonly closeListeners = new Set<(reason: FleetError) => void>();
  private closedWith: FleetError | undefined;
  /** Set by close(): our own ending is not news to our subscribers. */
  private closedByUs = false;

  private constructor(
    private readonly ws: ClientSocket,
    readonly welcome: WelcomeFrame,
  ) {
    ws.on("message", (text) => this.receive(text));
    ws.on("close", (code, reason) => this.closed(code, reason));
  }

  /** Connects and completes the hello. Rejects with a FleetError if refused or unreachable. */
  static async open(options: ConnectOptions): Promise<FleetConnection> {
    const where = `ws://${options.host}:${options.port}/`;
    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    let ws: MiniWebSocket;
    try {
      ws = await MiniWebSocket.connect({ host: options.host, port: options.port, timeoutMs });
    } catch (err) {
      const upgrade = err as UpgradeError;
      throw new FleetError("unavailable", `cannot reach the daemon at ${where}: ${upgrade.message}`, { cause: upgrade.code ?? upgrade.status });
    }
    return FleetConnection.hello(ws, { ...options, where, deadline });
  }

  /**
   * Completes the hello over a socket that is already open (the loopback client's, or a remote hub's
   * `ws` socket: client/remote.ts). Without `token` the daemon treats the caller as not local.
   */
  static hello(
    ws: ClientSocket,
    options: { where: string; deadline: number; token?: string; session?: string; clientName?: string },
  ): Promise<FleetConnection> {
    const where = options.where;
    return new Promise((resolve, reject) => {
      const fail = (err: FleetError) => {
        clearTimeout(timer);
        ws.removeAllListeners();
        ws.terminate();
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new FleetError("timeout", `the daemon at ${where} did not answer the hello in time`)),
        Math.max(0, options.deadline - Date.now()),
      );
      ws.once("close", (code, reason) => fail(new FleetError("unavailable", `the daemon closed the connection (${code} ${reason})`)));
      ws.once("message", (text) => {
        let frame: ServerFrame;
        try {
          frame = JSON.parse(text) as ServerFrame;
        } catch {
          return fail(new FleetError("bad_frame", "the daemon sent a frame that is not JSON"));
        }
        if (frame.type === "error") return fail(FleetError.fromPayload(frame.error));
        if (frame.type !== "welcome") return fail(new FleetError("bad_frame", `expected a welcome, got ${frame.type}`));
        clearTimeout(timer);
        ws.removeAllListeners();
        resolve(new FleetConnection(ws, frame));
      });
      const hello: HelloFrame = {
        type: "hello",
        protocol: PROTOCOL_VERSION,
        client: { name: options.clientName ?? "ocfleet", version: PACKAGE_VERSION },
      };
      if (options.token !== undefined) hello.token = options.token;
      if (options.session !== undefined) hello.session = options.session;
      ws.send(JSON.stringify(hello));
    });
  }

  get isOpen(): boolean {
    return this.closedWith === undefined;
  }

  /** Calls a method. `timeoutMs` bounds the wait for the reply (none by default). */
  call<M extends MethodRef>(ref: M, args: ArgsOf<M>, options: { timeoutMs?: number } = {}): Promise<ResultOf<M>> {
    return this.callMethod(ref.name, args, options) as Promise<ResultOf<M>>;
  }

  /** Calls a method by its wire name, for callers that only know the name at run time. */
  callMethod(method: string, args: unknown, options: { timeoutMs?: number } = {}): Promise<unknown> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.pending.delete(id);
              reject(new FleetError("timeout", `${method} got no reply within ${options.timeoutMs} ms`));
            }, options.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.sendFrame({ type: "call", id, method, args });
    });
  }

  /** Subscribes to a query: onValue gets the first result, then every changed one. */
  subscribe<M extends QueryRef>(ref: M, args: ArgsOf<M>, handlers: SubscriptionHandlers<ResultOf<M>>): Subscription {
    const id = this.nextId++;
    this.subscriptions.set(id, { value: undefined, hasValue: false, handlers: handlers as SubscriptionHandlers<unknown> });
    if (this.closedWith) queueMicrotask(() => handlers.onError?.(this.closedWith!));
    else this.sendFrame({ type: "subscribe", id, method: ref.name, args });
    return {
      unsubscribe: () => {
        if (!this.subscriptions.delete(id) || this.closedWith) return;
        this.sendFrame({ type: "unsubscribe", id });
      },
    };
  }

  onClose(listener: (reason: FleetError) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Closes at once; pending calls fail with `unavailable`, subscriptions simply end. */
  close(): void {
    this.closedByUs = true;
    this.ws.terminate();
    this.closed(1000, "closed by client");
  }

  private sendFrame(frame: ClientFrame): void {
    this.ws.send(JSON.stringify(frame));
  }

  private receive(text: string): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      return;
    }
    switch (frame.type) {
      case "result": {
        const call = this.pending.get(frame.id);
        if (!call) return;
        this.pending.delete(frame.id);
        clearTimeout(call.timer);
        call.resolve(frame.result);
        return;
      }
      case "error": {
        const error = FleetError.fromPayload(frame.error);
        if (frame.id === null) return;
        const call = this.pending.get(frame.id);
        if (call) {
          this.pending.delete(frame.id);
          clearTimeout(call.timer);
          call.reject(error);
          return;
        }
        this.subscriptions.get(frame.id)?.handlers.onError?.(error);
        return;
      }
      case "value": {
        const sub = this.subscriptions.get(frame.id);
        if (!sub) return;
        sub.value = frame.value;
        sub.hasValue = true;
        sub.handlers.onValue(sub.value);
        return;
      }
      case "patch": {
        const sub = this.subscriptions.get(frame.id);
        if (!sub?.hasValue) return;
        sub.value = applyPatch(sub.value, frame.ops);
        sub.handlers.onValue(sub.value);
        return;
      }
      case "welcome":
        return;
    }
  }

  private closed(code: number, reason: string): void {
    if (this.closedWith) return;
    this.closedWith = this.closedByUs
      ? new FleetError("unavailable", "the connection to the daemon was closed", { code })
      : new FleetError("unavailable", `the daemon went away (connection closed: ${code}${reason ? ` ${reason}` : ""}); see why with: ocfleet daemon logs`, {
          code,
        });
    for (const call of this.pending.values()) {
      clearTimeout(call.timer);
      call.reject(this.closedWith);
    }
    this.pending.clear();
    // A subscription ends with the connection: every subscriber hears why, so none waits forever.
    const subscriptions = [...this.subscriptions.values()];
    this.subscriptions.clear();
    if (!this.closedByUs) for (const sub of subscriptions) sub.handlers.onError?.(this.closedWith);
    for (const listener of this.closeListeners) listener(this.closedWith);
  }
}
