// The WebSocket server: upgrade checks, hello, frames in and out, and each connection's subscriptions.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import type { ErrorPayload } from "../protocol/errors.js";
import {
  CLOSE,
  HARD_FRAME_BYTES,
  HELLO_TIMEOUT_MS,
  MAX_FRAME_BYTES,
  type CallerInfo,
  type ClientFrame,
  type HelloFrame,
  type ServerFrame,
} from "../protocol/frames.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../protocol/version.js";
import { constantTimeEqual } from "./crypto.js";
import { toErrorPayload, type Dispatcher } from "./dispatch.js";
import type { Caller, CallerUser } from "./functions/define.js";
import type { Delivery, LiveQuery } from "./live.js";
import type { Logger } from "./log.js";

export interface ServerOptions {
  host: string;
  port: number;
  /** The daemon token from daemon.json. */
  token: string;
  dispatcher: Dispatcher;
  log: Logger;
  /** The user a proven local connection acts as, read fresh at each call. */
  localUser(): CallerUser;
}

/** Subscriptions one connection may hold; more is a bug or abuse. */
const MAX_SUBSCRIPTIONS_PER_CONNECTION = 1000;
/** A client this far behind in reading is dropped rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

export class FleetServer {
  private readonly connections = new Set<Connection>();
  private nextConnectionId = 1;
  private port = 0;

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    private readonly options: ServerOptions,
  ) {}

  static async start(options: ServerOptions): Promise<FleetServer> {
    const http = createServer((_req, res) => {
      res.writeHead(426, { "content-type": "text/plain", connection: "close" });
      res.end("ocfleet daemon: this port speaks WebSocket only\n");
    });
    const wss = new WebSocketServer({ noServer: true, maxPayload: HARD_FRAME_BYTES, perMessageDeflate: false });
    const server = new FleetServer(http, wss, options);
    http.on("upgrade", (req, socket, head) => server.upgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(options.port, options.host, () => {
        http.off("error", reject);
        resolve();
      });
    });
    const address = http.address();
    server.port = typeof address === "object" && address ? address.port : options.port;
    return server;
  }

  get address(): { host: string; port: number } {
    return { host: this.options.host, port: this.port };
  }

  stats(): { connections: number; subscriptions: number } {
    let subscriptions = 0;
    for (const connection of this.connections) subscriptions += connection.subscriptionCount;
    return { connections: this.connections.size, subscriptions };
  }

  /** Stops listening and closes every connection with "going away". */
  async close(): Promise<void> {
    for (const connection of this.connections) connection.close(CLOSE.goingAway, "daemon stopping");
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections();
  }

  /** Refuses cross-site and DNS-rebinding attempts before any WebSocket exists. */
  private rejectionReason(req: IncomingMessage): string | null {
    if (req.headers.origin !== undefined) return "Origin header not allowed: browsers may not connect";
    const expectedHost = `${this.options.host}:${this.port}`;
    if (req.headers.host !== expectedHost) return `Host must be ${expectedHost}`;
    return null;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const reason = this.rejectionReason(req);
    if (reason) {
      this.options.log.warn("refused websocket upgrade", { reason, host: req.headers.host, origin: req.headers.origin });
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason) + 1}\r\nConnection: close\r\n\r\n${reason}\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = new Connection(this.nextConnectionId++, ws, this.options);
      this.connections.add(connection);
      ws.once("close", () => {
        connection.dispose();
        this.connections.delete(connection);
      });
    });
  }
}

class Connection {
  private user: CallerUser | null = null;
  private readonly subscriptions = new Map<number, LiveQuery>();
  private helloTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: number,
    private readonly ws: WebSocket,
    private readonly options: ServerOptions,
  ) {
    this.helloTimer = setTimeout(() => this.refuse("unauthenticated", "no hello in time", CLOSE.helloTimeout), HELLO_TIMEOUT_MS);
    ws.on("message", (data, isBinary) => this.receive(data, isBinary));
    ws.on("error", (err) => options.log.warn("websocket error", { connection: id, error: err.message }));
  }

  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  dispose(): void {
    clearTimeout(this.helloTimer);
    for (const query of this.subscriptions.values()) this.options.dispatcher.unsubscribe(query);
    this.subscriptions.clear();
  }

  private caller(): Caller {
    // Re-read every time: a changed level or a removed user takes effect at the next call.
    if (this.user) this.user = this.options.localUser();
    return { connectionId: this.id, user: this.user, identity: this.user ? `local:${this.user.id}` : "anonymous" };
  }

  private send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  private sendRaw(json: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.options.log.warn("dropping a client that does not read", { connection: this.id });
      this.ws.terminate();
      return;
    }
    this.ws.send(json);
  }

  private sendError(id: number | null, error: ErrorPayload): void {
    this.send({ type: "error", id, error });
  }

  private refuse(code: ErrorPayload["code"], message: string, closeCode: number): void {
    this.sendError(null, { code, message });
    this.ws.close(closeCode, message.slice(0, 120));
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.sendError(null, { code: "bad_frame", message: "binary frames are not supported; send JSON text" });
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (size > MAX_FRAME_BYTES) {
      return this.sendError(null, { code: "frame_too_large", message: `frame of ${size} bytes exceeds the limit of ${MAX_FRAME_BYTES}` });
    }
    let frame: ClientFrame;
    try {
      frame = JSON.parse(data.toString()) as ClientFrame;
    } catch {
      return this.sendError(null, { code: "bad_frame", message: "frame is not valid JSON" });
    }
    if (typeof frame !== "object" || frame === null || typeof frame.type !== "string") {
      return this.sendError(null, { code: "bad_frame", message: "frame must be an object with a string 'type'" });
    }
    if (!this.user) {
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
      return this.refuse("protocol_mismatch", `protocol ${String(frame.protocol)} is not supported; this daemon speaks ${PROTOCOL_VERSION}`, CLOSE.protocolMismatch);
    }
    if (typeof frame.token !== "string" || !constantTimeEqual(frame.token, this.options.token)) {
      this.options.log.warn("refused a hello with a wrong or missing token", { connection: this.id });
      return this.refuse("unauthenticated", "wrong or missing daemon token", CLOSE.unauthenticated);
    }
    this.user = this.options.localUser();
    const caller: CallerInfo = { kind: "local", userId: this.user.id, userName: this.user.name, level: this.user.level };
    this.send({ type: "welcome", protocol: PROTOCOL_VERSION, server: { version: PACKAGE_VERSION, pid: process.pid }, caller });
  }

  private call(id: unknown, method: unknown, args: unknown): void {
    if (!isFrameId(id) || typeof method !== "string") {
      return this.sendError(isFrameId(id) ? id : null, { code: "bad_frame", message: "a call needs an integer 'id' and a string 'method'" });
    }
    this.options.dispatcher.call(this.caller(), method, args).then(
      (result) => this.send({ type: "result", id, result: result ?? null }),
      (err: unknown) => this.sendError(id, toErrorPayload(err, this.options.log, { method })),
    );
  }

  private subscribe(id: unknown, method: unknown, args: unknown): void {
    if (!isFrameId(id) || typeof method !== "string") {
      return this.sendError(isFrameId(id) ? id : null, { code: "bad_frame", message: "a subscribe needs an integer 'id' and a string 'method'" });
    }
    if (this.subscriptions.has(id)) return this.sendError(id, { code: "bad_frame", message: `subscription id ${id} is already in use` });
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
      this.subscriptions.set(id, this.options.dispatcher.subscribe(() => this.caller(), method, args, deliver));
    } catch (err) {
      this.sendError(id, toErrorPayload(err, this.options.log, { method }));
    }
  }

  private unsubscribe(id: unknown): void {
    if (!isFrameId(id)) return this.sendError(null, { code: "bad_frame", message: "an unsubscribe needs an integer 'id'" });
    const query = this.subscriptions.get(id);
    if (!query) return;
    this.options.dispatcher.unsubscribe(query);
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

