// One WebSocket connection to a daemon: hello, typed calls, and live subscriptions.
import WebSocket from "ws";
import type { ArgsOf, MethodRef, QueryRef, ResultOf } from "../protocol/api/define.js";
import { FleetError } from "../protocol/errors.js";
import type { ClientFrame, ServerFrame, WelcomeFrame } from "../protocol/frames.js";
import { applyPatch } from "../protocol/patch.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../protocol/version.js";

export interface ConnectOptions {
  host: string;
  port: number;
  token: string;
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

export class FleetConnection {
  private nextId = 1;
  private readonly pending = new Map<number, PendingCall>();
  private readonly subscriptions = new Map<number, ActiveSubscription>();
  private readonly closeListeners = new Set<(reason: FleetError) => void>();
  private closedWith: FleetError | undefined;

  private constructor(
    private readonly ws: WebSocket,
    readonly welcome: WelcomeFrame,
  ) {
    ws.on("message", (data) => this.receive(String(data)));
    ws.on("close", (code, reason) => this.closed(code, reason.toString()));
    ws.on("error", () => {}); // "close" follows and carries what matters
  }

  /** Connects and completes the hello. Rejects with a FleetError if refused or unreachable. */
  static open(options: ConnectOptions): Promise<FleetConnection> {
    const url = `ws://${options.host}:${options.port}/`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS });
      let settled = false;
      const fail = (err: FleetError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.terminate();
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new FleetError("timeout", `the daemon at ${url} did not answer the hello in time`)),
        options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      );
      ws.on("error", (err: NodeJS.ErrnoException) => fail(new FleetError("unavailable", `cannot reach the daemon at ${url}: ${err.code ?? err.message}`, { cause: err.code })));
      ws.on("close", (code, reason) => fail(new FleetError("unavailable", `the daemon closed the connection (${code} ${reason.toString()})`)));
      ws.on("open", () => {
        const hello: ClientFrame = {
          type: "hello",
          protocol: PROTOCOL_VERSION,
          client: { name: options.clientName ?? "ocfleet", version: PACKAGE_VERSION },
          token: options.token,
        };
        ws.send(JSON.stringify(hello));
      });
      ws.once("message", (data) => {
        let frame: ServerFrame;
        try {
          frame = JSON.parse(String(data)) as ServerFrame;
        } catch {
          return fail(new FleetError("bad_frame", "the daemon sent a frame that is not JSON"));
        }
        if (frame.type === "error") return fail(FleetError.fromPayload(frame.error));
        if (frame.type !== "welcome") return fail(new FleetError("bad_frame", `expected a welcome, got ${frame.type}`));
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.removeAllListeners();
        resolve(new FleetConnection(ws, frame));
      });
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

  /** Closes at once; pending calls fail with `unavailable`. */
  close(): void {
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
        if (!sub || !sub.hasValue) return;
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
    this.closedWith = new FleetError("unavailable", `connection to the daemon closed (${code}${reason ? ` ${reason}` : ""})`, { code });
    for (const call of this.pending.values()) {
      clearTimeout(call.timer);
      call.reject(this.closedWith);
    }
    this.pending.clear();
    for (const listener of this.closeListeners) listener(this.closedWith);
  }
}
