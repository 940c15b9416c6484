// A connection to a remote hub over wss: `ws` (loaded only here, only when a remote hub is used)
// behind the same FleetConnection as the loopback client, with the hub's certificate pinned.
import { EventEmitter } from "node:events";
import { FleetError } from "../protocol/errors.js";
import { FingerprintMismatchError, pinnedTlsConnect } from "../platform/tls-pin.js";
import { type ClientSocket, FleetConnection } from "./connection.js";

export interface RemoteConnectOptions {
  url: string;
  /** The pinned SHA256:… fingerprint; null to connect to an unknown hub and report what it presents. */
  fingerprint: string | null;
  session?: string;
  clientName?: string;
  timeoutMs?: number;
  /** Called with the certificate's fingerprint during the TLS handshake (before anything is sent). */
  onCertificate?: (fingerprint: string) => void;
}

class WsSocket extends EventEmitter implements ClientSocket {
  constructor(private readonly ws: import("ws").WebSocket) {
    super();
    ws.on("message", (data) => this.emit("message", data.toString()));
    ws.on("close", (code, reason) => this.emit("close", code, reason.toString()));
    ws.on("error", () => {});
  }

  send(text: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(text);
  }

  terminate(): void {
    this.ws.terminate();
  }
}

export async function openRemoteConnection(options: RemoteConnectOptions): Promise<FleetConnection> {
  const { WebSocket } = await import("ws");
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  const ws = new WebSocket(options.url, {
    perMessageDeflate: false,
    handshakeTimeout: timeoutMs,
    createConnection: (opts: object) => pinnedTlsConnect({ ...opts, fingerprint: options.fingerprint, onCertificate: options.onCertificate }),
  } as ConstructorParameters<typeof WebSocket>[2]);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", (err) => {
      ws.terminate();
      if (err instanceof FingerprintMismatchError) reject(new FleetError("unauthenticated", err.message));
      else reject(new FleetError("unavailable", `cannot reach the hub at ${options.url}: ${err.message}`));
    });
  });
  return FleetConnection.hello(new WsSocket(ws), { where: options.url, deadline, session: options.session, clientName: options.clientName });
}
