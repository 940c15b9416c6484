// The WebSocket server: upgrade checks (Origin, Host), then one Connection per socket.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { CLOSE, HARD_FRAME_BYTES } from "../protocol/frames.js";
import { Connection, type ConnectionOptions } from "./connection.js";

export interface ServerOptions extends ConnectionOptions {
  host: string;
  port: number;
}

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
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason) + 1}\r\nConnection: close\r\n\r\n${reason}\n`,
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = new Connection(this.nextConnectionId++, ws, req.socket.remoteAddress ?? "unknown", this.options);
      this.connections.add(connection);
      ws.once("close", () => {
        connection.dispose();
        this.connections.delete(connection);
      });
    });
  }
}
