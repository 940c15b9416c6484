// One client connection: the hello (daemon token, then an optional session), frames in and out,
// and its subscriptions. Who the caller is lives in connection-caller.ts.
import type { Socket } from "node:net";
import type { RawData, WebSocket } from "ws";
import type { ErrorPayload } from "../protocol/errors.js";
import {
  CLOSE,
  HELLO_TIMEOUT_MS,
  MAX_FRAME_BYTES,
  MAX_PRE_HELLO_BYTES,
  type CallerInfo,
  type ClientFrame,
  type HelloFrame,
  type ServerFrame,
  type SessionProblem,
} from "../protocol/frames.js";
import type { SessionId } from "../protocol/ids.js";
import { parseFrameText, TooDeepError } from "../protocol/json-depth.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../protocol/version.js";
import type { ResolvedSession } from "./accounts/sessions.js";
import { ConnectionCaller } from "./connection-caller.js";
import { constantTimeEqual } from "./crypto.js";
import { toErrorPayload, type Dispatcher } from "./dispatch.js";
import type { Caller } from "./functions/define.js";
import type { Delivery, LiveQuery } from "./live.js";
import type { Logger } from "./log.js";

export interface ConnectionOptions {
  /** The daemon token from daemon.json. */
  token: string;
  dispatcher: Dispatcher;
  log: Logger;
  /** Which session a bearer token belongs to. */
  findSession(token: string): { id: SessionId } | { problem: SessionProblem };
  /** The user behind a session id, now (it may have been revoked or expired since). */
  resolveSession(id: SessionId): ResolvedSession;
  /**
   * Set on the hub's network listener: the daemon token is refused there (nobody on the network is
   * `local`), and machines open their links with a hello that carries `link`.
   */
  network?: { acceptLink: LinkAcceptor };
}

/**
 * Takes over a socket whose hello carries a machine's link hello, or says why not. On success the
 * link owns the socket from then on (its frames are no longer client frames).
 */
export type LinkAcceptor = (hello: unknown, ws: WebSocket, source: string) => { refused: string } | { accepted: true };

/** Subscriptions one connection may hold; more is a bug or abuse. */
const MAX_SUBSCRIPTIONS_PER_CONNECTION = 1000;
/** A client this far behind in reading is dropped rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/** All clients together may have this much queued; past it, a slow client is dropped. */
const MAX_BUFFERED_BYTES_TOTAL = 256 * 1024 * 1024;
/** Below this a connection's queue is not worth adding up with the others'. */
const BUFFERED_CHECK_BYTES = 1024 * 1024;
const MAX_SESSION_TOKEN_LENGTH = 200;
/** An error never echoes more of the caller's input than this. */
const MAX_ERROR_MESSAGE_CHARS = 500;
const MAX_ERROR_DATA_CHARS = 2000;

/** Every open socket's send queue, so one bound holds for all of them together. */
export class OutboundQueues {
  private readonly sockets = new Set<WebSocket>();

  add(ws: WebSocket): void {
    this.sockets.add(ws);
  }

  delete(ws: WebSocket): void {
    this.sockets.delete(ws);
  }

  /** Whether this socket must be dropped: its own queue, or everyone's together, grew too large. */
  overBound(ws: WebSocket): boolean {
    if (ws.bufferedAmount < BUFFERED_CHECK_BYTES) return false;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return true;
    let total = 0;
    for (const socket of this.sockets) total += socket.bufferedAmount;
    return total > MAX_BUFFERED_BYTES_TOTAL;
  }
}

/** What the server gives a connection besides the socket: the raw TCP socket and shared bounds. */
export interface ConnectionContext {
  rawSocket?: Socket;
  outbound?: OutboundQueues;
  /** Called once the hello is accepted. */
  onHello?(): void;
}

/** An error payload cut to a size that does not echo a large input back. */
export function clampErrorPayload(error: ErrorPayload): ErrorPayload {
  const message = error.message.length > MAX_ERROR_MESSAGE_CHARS ? `${error.message.slice(0, MAX_ERROR_MESSAGE_CHARS)}…` : error.message;
  if (error.data === undefined) return message === error.message ? error : { ...error, message };
  const data = JSON.stringify(error.data).length > MAX_ERROR_DATA_CHARS ? { truncated: true } : error.data;
  return { ...error, message, data };
}

interface ActiveSubscription {
  method: string;
  args: unknown;
  deliver: (delivery: Delivery) => void;
  query: LiveQuery;
}

export class Connection {
  private helloDone = false;
  /** A machine's link took the socket over at the hello. */
  private linked = false;
  private clientName = "unknown";
  private readonly who: ConnectionCaller;
  private readonly subscriptions = new Map<number, ActiveSubscription>();
  /** Ids of calls not answered yet: with subscriptions', the ids a new frame may not reuse. */
  private readonly callsInFlight = new Set<number>();
  private helloTimer: NodeJS.Timeout | undefined;
  private countPreHello: ((chunk: Buffer) => void) | undefined;

  constructor(
    readonly id: number,
    private readonly ws: WebSocket,
    private readonly source: string,
    private readonly options: ConnectionOptions,
    private readonly context: ConnectionContext = {},
  ) {
    const connection = this;
    const handle = {
      id,
      get clientName() {
        return connection.clientName;
      },
      bindSession: (sessionId: SessionId | null) => this.bindSession(sessionId),
    };
    this.who = new ConnectionCaller(handle, source, {
      resolveSession: options.resolveSession,
      onNextWrite: (deps, onWrite) => options.dispatcher.onNextWrite(deps, onWrite),
    });
    this.helloTimer = setTimeout(() => this.refuse("unauthenticated", "no hello in time", CLOSE.helloTimeout), HELLO_TIMEOUT_MS);
    ws.on("message", (data, isBinary) => {
      // A frame that trips a bug is that frame's failure, never the daemon's: thrown here it would be uncaught.
      try {
        this.receive(data, isBinary);
      } catch (err) {
        const error = toErrorPayload(err, options.log, { connection: id, during: "a frame" });
        if (this.helloDone) this.sendError(null, error);
        else this.refuse(error.code, error.message, CLOSE.unauthenticated);
      }
    });
    ws.on("error", (err) => options.log.warnThrottled(`ws-error:${source}`, "websocket error", { connection: id, error: err.message }));
    context.outbound?.add(ws);
    // Before the hello, every byte counts against a small allowance, whatever the frames claim.
    const raw = context.rawSocket;
    if (raw) {
      let received = 0;
      this.countPreHello = (chunk) => {
        received += chunk.length;
        if (received > MAX_PRE_HELLO_BYTES) {
          options.log.warnThrottled(`pre-hello:${source}`, "closed a connection that sent too much before its hello", { source });
          this.stopCountingPreHello();
          raw.destroy();
        }
      };
      raw.on("data", this.countPreHello);
    }
  }

  private stopCountingPreHello(): void {
    if (this.countPreHello) this.context.rawSocket?.off("data", this.countPreHello);
    this.countPreHello = undefined;
  }

  /** Whether the hello was accepted. */
  get saidHello(): boolean {
    return this.helloDone;
  }

  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  dispose(): void {
    clearTimeout(this.helloTimer);
    this.stopCountingPreHello();
    this.context.outbound?.delete(this.ws);
    for (const sub of this.subscriptions.values()) this.options.dispatcher.unsubscribe(sub.query);
    this.subscriptions.clear();
    this.who.forget();
  }

  private caller(): Caller {
    return this.who.current();
  }

  /**
   * Signs the connection in or out. Its subscriptions move to the new identity (a group shared
   * with other connections of the old session must not be evaluated as someone else), and each
   * gets the current value, or an error, under the new caller.
   */
  private bindSession(sessionId: SessionId | null): void {
    this.who.bind(sessionId);
    for (const [id, sub] of this.subscriptions) {
      this.options.dispatcher.unsubscribe(sub.query);
      try {
        sub.query = this.options.dispatcher.subscribe(() => this.caller(), sub.method, sub.args, sub.deliver, { authorizeNow: false });
      } catch (err) {
        this.subscriptions.delete(id);
        this.sendError(id, toErrorPayload(err, this.options.log, { method: sub.method }));
      }
    }
  }

  private send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  private sendRaw(json: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const overBound = this.context.outbound ? this.context.outbound.overBound(this.ws) : this.ws.bufferedAmount > MAX_BUFFERED_BYTES;
    if (overBound) {
      this.options.log.warn("dropping a client that does not read", { connection: this.id, buffered: this.ws.bufferedAmount });
      this.ws.terminate();
      return;
    }
    this.ws.send(json);
  }

  private sendError(id: number | null, error: ErrorPayload): void {
    this.send({ type: "error", id, error: clampErrorPayload(error) });
  }

  private refuse(code: ErrorPayload["code"], message: string, closeCode: number): void {
    this.sendError(null, { code, message });
    this.ws.close(closeCode, message.slice(0, 120));
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (this.linked) return;
    // Before the hello, a bad frame of any kind closes the socket: there is nobody to help yet.
    const fail = (code: ErrorPayload["code"], message: string) =>
      this.helloDone ? this.sendError(null, { code, message }) : this.refuse(code, message, CLOSE.unauthenticated);
    if (isBinary) return fail("bad_frame", "binary frames are not supported; send JSON text");
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (size > MAX_FRAME_BYTES) return fail("frame_too_large", `frame of ${size} bytes exceeds the limit of ${MAX_FRAME_BYTES}`);
    let frame: ClientFrame;
    try {
      frame = parseFrameText(data.toString()) as ClientFrame;
    } catch (err) {
      return fail("bad_frame", err instanceof TooDeepError ? err.message : "frame is not valid JSON");
    }
    if (typeof frame !== "object" || frame === null || typeof frame.type !== "string") {
      return fail("bad_frame", "frame must be an object with a string 'type'");
    }
    if (!this.helloDone) {
      if (frame.type !== "hello") return this.refuse("unauthenticated", "the first frame must be a hello", CLOSE.unauthenticated);
      return this.hello(frame);
    }
    switch (frame.type) {
      case "call":
        return this.call(frame.id, frame.method, frame.args);
      case "subscribe":
        return this.subscribe(frame.id, frame.method, frame.args);
      case "unsubscribe":
        return this.unsubscribe(frame.id);
      case "hello":
        return this.sendError(null, { code: "bad_frame", message: "hello was already received" });
      default:
        return this.sendError(null, { code: "bad_frame", message: `unknown frame type '${(frame as { type: string }).type}'` });
    }
  }

  private hello(frame: HelloFrame): void {
    clearTimeout(this.helloTimer);
    if (frame.protocol !== PROTOCOL_VERSION) {
      // Only a number is named back: String() of a deeply nested array overflows the stack.
      const given = typeof frame.protocol === "number" ? `protocol ${frame.protocol} is not supported` : "the hello's protocol must be a number";
      return this.refuse("protocol_mismatch", `${given}; this daemon speaks ${PROTOCOL_VERSION}`, CLOSE.protocolMismatch);
    }
    if (this.options.network) {
      // The daemon token proves the local OS user; from the network it proves nothing, and is never accepted.
      if (frame.token !== undefined) {
        this.options.log.warnThrottled(`hello:${this.source}`, "refused a daemon token from the network", { connection: this.id, source: this.source });
        return this.refuse("unauthenticated", "the daemon token is not accepted over the network; sign in (ocfleet login --hub URL)", CLOSE.unauthenticated);
      }
      if (frame.link !== undefined) return this.linkHello(frame.link);
    } else if (frame.link !== undefined) {
      return this.refuse("unauthenticated", "machines link through a hub's network listener (ocfleet hub enable)", CLOSE.unauthenticated);
    } else if (typeof frame.token !== "string" || !constantTimeEqual(frame.token, this.options.token)) {
      this.options.log.warnThrottled(`hello:${this.source}`, "refused a hello with a wrong or missing token", { connection: this.id, source: this.source });
      return this.refuse("unauthenticated", "wrong or missing daemon token", CLOSE.unauthenticated);
    }
    if (frame.session !== undefined && (typeof frame.session !== "string" || frame.session.length > MAX_SESSION_TOKEN_LENGTH)) {
      return this.refuse("bad_frame", "the hello's session must be a session token string", CLOSE.unauthenticated);
    }
    this.helloDone = true;
    this.stopCountingPreHello();
    this.context.onHello?.();
    const name = frame.client?.name;
    if (typeof name === "string" && name !== "") this.clientName = name.slice(0, 100);
    // A session that no longer works does not refuse the hello: the client learns why and signs in again.
    this.who.hello(!this.options.network, typeof frame.session === "string" ? this.options.findSession(frame.session) : undefined);
    const caller = this.caller();
    const info: CallerInfo = {
      kind: this.options.network ? "network" : "local",
      user: caller.user ? { id: caller.user.id, name: caller.user.name, level: caller.user.level } : null,
      session: caller.session,
    };
    if (caller.sessionProblem) info.sessionProblem = caller.sessionProblem;
    this.send({ type: "welcome", protocol: PROTOCOL_VERSION, server: { version: PACKAGE_VERSION, pid: process.pid }, caller: info });
  }

  /** A machine's hello: the link takes the socket over, or the socket is refused. */
  private linkHello(hello: unknown): void {
    const outcome = this.options.network!.acceptLink(hello, this.ws, this.source);
    if ("refused" in outcome) {
      this.options.log.warnThrottled(`link:${this.source}`, "refused a machine link", { connection: this.id, source: this.source, reason: outcome.refused });
      return this.refuse("unauthenticated", outcome.refused, CLOSE.unauthenticated);
    }
    this.helloDone = true;
    this.linked = true;
    this.stopCountingPreHello();
    this.context.onHello?.();
  }

  private call(id: unknown, method: unknown, args: unknown): void {
    if (!isFrameId(id) || typeof method !== "string") {
      return this.sendError(isFrameId(id) ? id : null, { code: "bad_frame", message: "a call needs an integer 'id' and a string 'method'" });
    }
    if (this.idInUse(id)) return;
    this.callsInFlight.add(id);
    this.options.dispatcher
      .call(this.caller(), method, args)
      .then(
        (result) => this.send({ type: "result", id, result: result ?? null }),
        (err: unknown) => this.sendError(id, toErrorPayload(err, this.options.log, { method })),
      )
      .finally(() => this.callsInFlight.delete(id));
  }

  /**
   * A replayed id would make two answers carry the same id, so the client could not tell them apart:
   * refused, without the id, while a call or subscription holds it (an answered call frees its id).
   */
  private idInUse(id: number): boolean {
    const holder = this.subscriptions.has(id) ? "a subscription" : this.callsInFlight.has(id) ? "a call in progress" : null;
    if (holder) this.sendError(null, { code: "bad_frame", message: `id ${id} is already in use by ${holder}` });
    return holder !== null;
  }

  private subscribe(id: unknown, method: unknown, args: unknown): void {
    if (!isFrameId(id) || typeof method !== "string") {
      return this.sendError(isFrameId(id) ? id : null, { code: "bad_frame", message: "a subscribe needs an integer 'id' and a string 'method'" });
    }
    if (this.idInUse(id)) return;
    if (this.subscriptions.size >= MAX_SUBSCRIPTIONS_PER_CONNECTION) {
      return this.sendError(id, { code: "rate_limited", message: `at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions per connection` });
    }
    const deliver = (delivery: Delivery) => {
      if (delivery.kind === "error") return this.sendError(id, toErrorPayload(delivery.error, this.options.log, { method }));
      // One delivery goes to every subscriber of a shared query: serialize its body once.
      const body = payloadJson(delivery);
      this.sendRaw(delivery.kind === "value" ? `{"type":"value","id":${id},"value":${body}}` : `{"type":"patch","id":${id},"ops":${body}}`);
    };
    try {
      const query = this.options.dispatcher.subscribe(() => this.caller(), method, args, deliver);
      this.subscriptions.set(id, { method, args, deliver, query });
    } catch (err) {
      this.sendError(id, toErrorPayload(err, this.options.log, { method }));
    }
  }

  private unsubscribe(id: unknown): void {
    if (!isFrameId(id)) return this.sendError(null, { code: "bad_frame", message: "an unsubscribe needs an integer 'id'" });
    const sub = this.subscriptions.get(id);
    if (!sub) return;
    this.options.dispatcher.unsubscribe(sub.query);
    this.subscriptions.delete(id);
  }
}

const serialized = new WeakMap<Delivery, string>();

function payloadJson(delivery: Exclude<Delivery, { kind: "error" }>): string {
  let json = serialized.get(delivery);
  if (json === undefined) {
    json = JSON.stringify(delivery.kind === "value" ? (delivery.value ?? null) : delivery.ops);
    serialized.set(delivery, json);
  }
  return json;
}

function isFrameId(id: unknown): id is number {
  return typeof id === "number" && Number.isSafeInteger(id) && id >= 0;
}
