// A small RFC 6455 WebSocket client over node:net. The CLI opens one connection per command,
// and the `ws` package costs about a third of node's own start-up to load (it pulls in http,
// https, tls and zlib), so the client side speaks the protocol itself. The daemon side stays on `ws`.
// Nor does it load node:crypto (3–5 ms): randomness comes from /dev/urandom and SHA-1 is ours.
import { EventEmitter } from "node:events";
import { connect as connectTcp, type Socket } from "node:net";
import { fillRandom } from "./random-bytes.js";
import { sha1Base64 } from "./sha1.js";

const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;
/** Masks come from a pool of random bytes, refilled in bulk rather than one syscall per frame. */
const maskPool = Buffer.alloc(4096);
let maskOffset = maskPool.length;
function nextMask(): Buffer {
  if (maskOffset + 4 > maskPool.length) {
    fillRandom(maskPool);
    maskOffset = 0;
  }
  maskOffset += 4;
  return maskPool.subarray(maskOffset - 4, maskOffset);
}

/** Larger incoming messages are refused; the daemon never sends anything near this. */
const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

export interface WebSocketOptions {
  host: string;
  port: number;
  path?: string;
  /** Bounds the TCP connect plus the HTTP upgrade. */
  timeoutMs: number;
  /** Extra request headers (tests use them to send Origin or Host). */
  headers?: Record<string, string>;
}

/** Why an upgrade failed: the HTTP status the server answered with, if any. */
export class UpgradeError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface MiniWebSocketEvents {
  message: [text: string];
  close: [code: number, reason: string];
}

export class MiniWebSocket extends EventEmitter<MiniWebSocketEvents> {
  private buffer: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentBytes = 0;
  private closeSent = false;
  private closed = false;
  private closeCode = 1006;
  private closeReason = "";

  private constructor(
    private readonly socket: Socket,
    leftover: Buffer,
  ) {
    super();
    socket.on("close", () => this.finish());
    socket.on("error", () => {}); // "close" follows
    // Frames may have arrived with the upgrade response. Hold everything until the caller has had
    // a chance to attach listeners, then deliver in order.
    setImmediate(() => {
      if (leftover.length > 0) this.receive(leftover);
      socket.on("data", (chunk) => this.receive(chunk));
      socket.resume();
    });
  }

  static connect(options: WebSocketOptions): Promise<MiniWebSocket> {
    return new Promise((resolve, reject) => {
      const key = fillRandom(Buffer.alloc(16)).toString("base64");
      const socket = connectTcp({ host: options.host, port: options.port });
      socket.setNoDelay(true);
      let head = Buffer.alloc(0);
      const fail = (err: UpgradeError) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new UpgradeError("timed out opening the WebSocket", null, "ETIMEDOUT")), options.timeoutMs);
      socket.once("error", (err: NodeJS.ErrnoException) => fail(new UpgradeError(err.message, null, err.code)));
      socket.once("connect", () => {
        const headers: Record<string, string> = {
          Host: `${options.host}:${options.port}`,
          Upgrade: "websocket",
          Connection: "Upgrade",
          "Sec-WebSocket-Key": key,
          "Sec-WebSocket-Version": "13",
          ...options.headers,
        };
        const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
        socket.write(`GET ${options.path ?? "/"} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`);
      });
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) {
          if (head.length > 64 * 1024) fail(new UpgradeError("the server's upgrade response is too long", null));
          return;
        }
        socket.off("data", onData);
        const [statusLine = "", ...headerLines] = head.subarray(0, end).toString("latin1").split("\r\n");
        const status = Number(statusLine.split(" ")[1]);
        if (status !== 101) {
          const body = head
            .subarray(end + 4)
            .toString("utf8")
            .trim();
          return fail(new UpgradeError(`the server refused the WebSocket: ${statusLine.slice(9)}${body ? ` (${body})` : ""}`, status));
        }
        const accept = headerLines
          .find((line) => /^sec-websocket-accept:/i.test(line))
          ?.split(":")[1]
          ?.trim();
        const expected = sha1Base64(key + ACCEPT_GUID);
        if (accept !== expected) return fail(new UpgradeError("the server's Sec-WebSocket-Accept is wrong", status));
        clearTimeout(timer);
        socket.removeAllListeners("error");
        socket.pause();
        resolve(new MiniWebSocket(socket, head.subarray(end + 4)));
      };
      socket.on("data", onData);
    });
  }

  get isOpen(): boolean {
    return !this.closed && !this.closeSent;
  }

  send(text: string): void {
    if (!this.isOpen) return;
    this.writeFrame(OPCODE.text, Buffer.from(text, "utf8"));
  }

  /** Starts the closing handshake; the socket ends when the server answers (or after a second). */
  close(code = 1000, reason = ""): void {
    if (this.closed || this.closeSent) return;
    this.sendClose(code, reason);
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Drops the connection at once, without a closing handshake. */
  terminate(): void {
    this.socket.destroy();
  }

  private sendClose(code: number, reason: string): void {
    this.closeSent = true;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.writeFrame(OPCODE.close, payload);
  }

  /** Client frames are always masked (RFC 6455 §5.3). */
  private writeFrame(opcode: number, payload: Buffer): void {
    const length = payload.length;
    const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(headerLength + 4 + length);
    frame[0] = 0x80 | opcode;
    if (length < 126) {
      frame[1] = 0x80 | length;
    } else if (length < 65536) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(length), 2);
    }
    const mask = nextMask();
    mask.copy(frame, headerLength);
    const body = headerLength + 4;
    for (let i = 0; i < length; i++) frame[body + i] = payload[i]! ^ mask[i & 3]!;
    this.socket.write(frame);
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (!this.closed) {
      const frame = this.parseFrame();
      if (!frame) return;
      this.handleFrame(frame.fin, frame.opcode, frame.payload);
    }
  }

  private parseFrame(): { fin: boolean; opcode: number; payload: Buffer } | null {
    const buf = this.buffer;
    if (buf.length < 2) return null;
    const fin = (buf[0]! & 0x80) !== 0;
    const opcode = buf[0]! & 0x0f;
    if ((buf[1]! & 0x80) !== 0) return (this.protocolError("the server sent a masked frame"), null);
    let length = buf[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buf.length < 4) return null;
      length = buf.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buf.length < 10) return null;
      const big = buf.readBigUInt64BE(2);
      if (big > BigInt(MAX_MESSAGE_BYTES)) return (this.protocolError("the server sent a frame that is too large", 1009), null);
      length = Number(big);
      offset = 10;
    }
    if (buf.length < offset + length) return null;
    const payload = buf.subarray(offset, offset + length);
    this.buffer = buf.subarray(offset + length);
    return { fin, opcode, payload };
  }

  private handleFrame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case OPCODE.text:
      case OPCODE.binary:
      case OPCODE.continuation: {
        if (opcode !== OPCODE.continuation && this.fragments.length > 0) return this.protocolError("a new message began inside a fragmented one");
        if (opcode === OPCODE.continuation && this.fragments.length === 0) return this.protocolError("a continuation frame without a message");
        this.fragments.push(payload);
        this.fragmentBytes += payload.length;
        if (this.fragmentBytes > MAX_MESSAGE_BYTES) return this.protocolError("the server sent a message that is too large", 1009);
        if (!fin) return;
        const message = this.fragments.length === 1 ? this.fragments[0]! : Buffer.concat(this.fragments);
        this.fragments = [];
        this.fragmentBytes = 0;
        this.emit("message", message.toString("utf8"));
        return;
      }
      case OPCODE.ping:
        if (!this.closeSent) this.writeFrame(OPCODE.pong, payload);
        return;
      case OPCODE.pong:
        return;
      case OPCODE.close: {
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.closeReason = payload.length > 2 ? payload.subarray(2).toString("utf8") : "";
        if (!this.closeSent) this.sendClose(this.closeCode === 1005 ? 1000 : this.closeCode, "");
        this.socket.end();
        return;
      }
      default:
        return this.protocolError(`unknown opcode ${opcode}`);
    }
  }

  private protocolError(reason: string, code = 1002): void {
    this.closeCode = code;
    this.closeReason = reason;
    if (!this.closeSent) this.sendClose(code, reason.slice(0, 120));
    this.socket.destroy();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit("close", this.closeCode, this.closeReason);
  }
}
