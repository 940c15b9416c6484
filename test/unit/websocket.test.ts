import type { AddressInfo } from "node:net";
import { createServer } from "node:http";
import { WebSocketServer, type WebSocket } from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { MiniWebSocket, UpgradeError } from "../../src/client/websocket.js";

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((fn) => fn()));

/** A real `ws` server on loopback; `onConnection` scripts what it does. */
async function server(onConnection: (ws: WebSocket) => void): Promise<number> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  wss.on("connection", onConnection);
  await new Promise((resolve) => wss.once("listening", resolve));
  cleanups.push(() => wss.close());
  return (wss.address() as AddressInfo).port;
}

const connect = (port: number) => MiniWebSocket.connect({ host: "127.0.0.1", port, timeoutMs: 2000 });
const nextMessage = (ws: MiniWebSocket) => new Promise<string>((resolve) => ws.once("message", resolve));

describe("the client's WebSocket", () => {
  it("exchanges text frames of every length encoding, masked both ways", async () => {
    const port = await server((ws) => ws.on("message", (data) => ws.send(String(data))));
    const ws = await connect(port);
    for (const size of [0, 1, 125, 126, 65535, 65536, 3_000_000]) {
      const text = "é".repeat(Math.floor(size / 2)) + "x".repeat(size % 2);
      const echoed = nextMessage(ws);
      ws.send(text);
      expect(await echoed, `size ${size}`).toBe(text);
    }
    ws.close();
  });

  it("reassembles fragmented messages and answers pings", async () => {
    let pongs = 0;
    const port = await server((ws) => {
      ws.on("pong", () => pongs++);
      ws.ping("are you there");
      ws.send("hello ", { fin: false });
      ws.send("fragmented ", { fin: false });
      ws.send("world", { fin: true });
    });
    const ws = await connect(port);
    expect(await nextMessage(ws)).toBe("hello fragmented world");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pongs).toBe(1);
    ws.close();
  });

  it("reports the server's close code and reason", async () => {
    const port = await server((ws) => ws.close(4401, "go away"));
    const ws = await connect(port);
    const [code, reason] = await new Promise<[number, string]>((resolve) => ws.once("close", (c, r) => resolve([c, r])));
    expect(code).toBe(4401);
    expect(reason).toBe("go away");
  });

  it("completes the closing handshake it starts", async () => {
    const serverSide = new Promise<number>((resolve) => {
      void server((ws) => ws.on("close", (code) => resolve(code))).then(async (port) => {
        const ws = await connect(port);
        ws.close(1000, "done");
      });
    });
    expect(await serverSide).toBe(1000);
  });

  it("surfaces a refused upgrade with its HTTP status and body", async () => {
    const http = createServer((_req, res) => res.end());
    http.on("upgrade", (_req, socket) => socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\nnope!\n"));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => http.close());
    const error = await connect((http.address() as AddressInfo).port).catch((e: UpgradeError) => e);
    expect(error).toBeInstanceOf(UpgradeError);
    expect(error).toMatchObject({ status: 403 });
    expect((error as UpgradeError).message).toContain("nope!");
  });

  it("fails fast when nothing listens", async () => {
    const port = await server(() => {});
    cleanups.splice(0).forEach((fn) => fn());
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(connect(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});
