// The WebSocket server: upgrade checks (Origin, Host), limits that hold against a hostile client
// (connections in all, connections not yet signed in per source, idle sockets), then one
// Connection per socket.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { CLOSE, HARD_FRAME_BYTES } from "../protocol/frames.js";
import { Connection, type ConnectionOptions, OutboundQueues } from "./connection.js";

export interface ServerOptions extends ConnectionOptions {
  host: string;
  port: number;
  limits?: Partial<ServerLimits>;
  /** The hub's network listener: TLS always, and the Host header may be any of `allowedHosts`. */
  tls?: { cert: string; key: string; allowedHosts: string[] };
}

export interface ServerLimits {
  /** Sockets open at once that have said hello (clients proved to be this user, or signed in); past this new ones are refused. */
  maxConnections: number;
  /** Sockets from one source that have not said hello yet (TCP, upgrade, hello); past this the oldest is closed. */
  maxPendingPerSource: number;
  /** The same, from all sources together. */
  maxPending: number;
  /** An HTTP request (the upgrade) must arrive whole within this time. */
  requestTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = { maxConnections: 1000, maxPendingPerSource: 128, maxPending: 512, requestTimeoutMs: 5000 };

export class FleetServer {
  private readonly connections = new Set<Connection>();
  /** Sockets that have not said hello yet, oldest first: all of them, and per source. */
  private readonly pending = new Map<Socket, string>();
  private readonly pendingBySource = new Map<string, Set<Socket>>();
  private helloCount = 0;
  private readonly outbound = new OutboundQueues();
  private nextConnectionId = 1;
  private port = 0;

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    private readonly options: ServerOptions,
    private readonly limits: ServerLimits,
  ) {}

  static async start(options: ServerOptions): Promise<FleetServer> {
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    // A socket that never finishes its request (or, with TLS, its handshake) is closed after requestTimeoutMs (checked every second).
    const timeouts = { requestTimeout: limits.requestTimeoutMs, headersTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: 1000 };
    const answer = (_req: IncomingMessage, res: import("node:http").ServerResponse) => {
      res.writeHead(426, { "content-type": "text/plain", connection: "close" });
      res.end("ocfleet daemon: this port speaks WebSocket only\n");
    };
    const http = options.tls
      ? createTlsServer({ ...timeouts, cert: options.tls.cert, key: options.tls.key, handshakeTimeout: limits.requestTimeoutMs }, answer)
      : createServer(timeouts, answer);
    const wss = new WebSocketServer({ noServer: true, maxPayload: HARD_FRAME_BYTES, perMessageDeflate: false });
    const server = new FleetServer(http, wss, options, limits);
    // With TLS the socket that carries the request is the TLS one, so that is the one counted.
    http.on(options.tls ? "secureConnection" : "connection", (socket: Socket) => server.admit(socket));
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
    const allowed = this.options.tls ? this.options.tls.allowedHosts : [`${this.options.host}:${this.port}`];
    if (req.headers.host === undefined || !allowed.includes(req.headers.host)) return `Host must be ${allowed.join(" or ")}`;
    return null;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const reason = this.rejectionReason(req);
    if (reason) {
      // Only a short prefix of what the stranger sent, and one line per interval however many come.
      this.options.log.warnThrottled("upgrade", "refused websocket upgrade", { reason, host: req.headers.host, origin: req.headers.origin });
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason) + 1}\r\nConnection: close\r\n\r\n${reason}\n`,
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const raw = req.socket as Socket;
      const connection = new Connection(this.nextConnectionId++, ws, raw.remoteAddress ?? "unknown", this.options, {
        rawSocket: raw,
        outbound: this.outbound,
        onHello: () => {
          this.forgetPending(raw);
          this.helloCount++;
        },
      });
      this.connections.add(connection);
      ws.once("close", () => {
        connection.dispose();
        if (this.connections.delete(connection) && connection.saidHello) this.helloCount--;
      });
    });
  }

  /**
   * Every new socket starts as pending. A source may hold only so many sockets that have not said
   * hello, and all sources together only so many; past that the oldest goes. A client that says
   * hello within milliseconds still gets in, while a flood of idle sockets only pushes out its
   * own, and the daemon's file descriptors stay bounded. Sockets that said hello are capped too.
   */
  private admit(socket: Socket): void {
    if (this.helloCount >= this.limits.maxConnections) {
      this.options.log.warnThrottled("full", "refused a connection: too many clients connected", { max: this.limits.maxConnections });
      socket.destroy();
      return;
    }
    const source = socket.remoteAddress ?? "unknown";
    let mine = this.pendingBySource.get(source);
    if (!mine) this.pendingBySource.set(source, (mine = new Set()));
    mine.add(socket);
    this.pending.set(socket, source);
    socket.once("close", () => this.forgetPending(socket));
    const evict = mine.size > this.limits.maxPendingPerSource ? mine.values() : this.pending.size > this.limits.maxPending ? this.pending.keys() : null;
    if (evict) {
      const oldest = evict.next().value!;
      this.options.log.warnThrottled(`pending:${source}`, "closed a connection that had not said hello: too many waiting", { source });
      this.forgetPending(oldest);
      oldest.destroy();
    }
  }

  private forgetPending(socket: Socket): void {
    const source = this.pending.get(socket);
    if (source === undefined) return;
    this.pending.delete(socket);
    const mine = this.pendingBySource.get(source);
    mine?.delete(socket);
    if (mine?.size === 0) this.pendingBySource.delete(source);
  }
}
