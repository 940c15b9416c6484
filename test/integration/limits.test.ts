// Limits that hold against a hostile local client without the token: the log, idle sockets,
// frames before the hello, and errors that would echo a large input back.
import { readdirSync, statSync } from "node:fs";
import { connect as tcpConnect, type Socket } from "node:net";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { api } from "../../src/protocol/api/index.js";
import { MAX_FRAME_DEPTH } from "../../src/protocol/json-depth.js";
import { statePaths } from "../../src/protocol/statefile.js";
import { PROTOCOL_VERSION } from "../../src/protocol/version.js";
import { cleanupHomes, connect, createHome, daemonState, waitFor } from "../helpers/daemon.js";

let home: string;
let client: FleetConnection;

beforeAll(async () => {
  home = createHome();
  client = await connect(home);
});
afterAll(async () => {
  client.close();
  await cleanupHomes();
});

const port = () => daemonState(home)!.port;

function openSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port(), "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

function openedFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** A raw WebSocket that has done the upgrade but not the hello. */
function rawWebSocket(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port()}/`, { maxPayload: 64 * 1024 * 1024 });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

function closed(ws: WebSocket): Promise<{ code: number; frames: unknown[] }> {
  const frames: unknown[] = [];
  ws.on("message", (data) => frames.push(JSON.parse(String(data))));
  return new Promise((resolve) => ws.once("close", (code) => resolve({ code, frames })));
}

describe("a local stranger without the token cannot wear the daemon down", () => {
  it("logs a flood of refused upgrades as a few short lines, not megabytes", async () => {
    const log = statePaths(home).log;
    const before = statSync(log).size;
    const origin = `https://evil.example/${"x".repeat(10_000)}`;
    const request = `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port()}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: ${origin}\r\n\r\n`;
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from(
          { length: 50 },
          () =>
            new Promise<void>((resolve) => {
              const socket = tcpConnect(port(), "127.0.0.1", () => socket.write(request));
              socket.on("data", () => {});
              socket.once("close", () => resolve());
              socket.once("error", () => resolve());
            }),
        ),
      );
    }
    // 500 refusals with a 10 KB header each: unthrottled and unclipped, that was 5 MB of log.
    expect(statSync(log).size - before).toBeLessThan(20_000);
    expect(await client.call(api.appinfo.get, {})).toHaveProperty("version");
  });

  it("keeps its descriptors bounded under thousands of idle sockets, and a client still gets in", async () => {
    const pid = daemonState(home)!.pid;
    const baseline = openedFds(pid);
    const sockets: Socket[] = [];
    try {
      for (let batch = 0; batch < 20; batch++) sockets.push(...(await Promise.all(Array.from({ length: 100 }, openSocket))));
      // A client connecting after them is accepted after them: when it is served, they were all seen.
      const late = await connect(home);
      expect(await late.call(api.appinfo.get, {})).toHaveProperty("version");
      late.close();
      expect(openedFds(pid) - baseline).toBeLessThan(400);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });

  it("closes a socket that sends a large frame, or a bad one, before its hello", async () => {
    const big = await rawWebSocket();
    const bigClosed = closed(big);
    big.send(JSON.stringify({ type: "hello", pad: "x".repeat(2 * 1024 * 1024) }));
    const bigOutcome = await bigClosed;
    expect(bigOutcome.frames).toEqual([]);

    const bad = await rawWebSocket();
    const badClosed = closed(bad);
    bad.send("{not json");
    const badOutcome = await badClosed;
    expect(badOutcome.code).toBe(4401);
    expect(badOutcome.frames).toMatchObject([{ type: "error", error: { code: "bad_frame" } }]);
  });

  it("never echoes more than a short prefix of a large input in an error", async () => {
    const ws = await rawWebSocket();
    const replies: string[] = [];
    ws.on("message", (data) => replies.push(String(data)));
    ws.send(JSON.stringify({ type: "hello", protocol: PROTOCOL_VERSION, client: { name: "raw", version: "0" }, token: daemonState(home)!.token }));
    await waitFor("the welcome", () => replies.length === 1);
    ws.send(JSON.stringify({ type: "call", id: 1, method: "m".repeat(900_000), args: {} }));
    ws.send(JSON.stringify({ type: "call", id: 2, method: "checklists.addItem", args: { key: "k".repeat(900_000), text: "x" } }));
    await waitFor("both errors", () => replies.length === 3);
    for (const reply of replies.slice(1)) {
      expect(JSON.parse(reply)).toMatchObject({ type: "error" });
      expect(reply.length).toBeLessThan(4096);
    }
    ws.close();
  });

  // Parsing 200,000 levels takes the daemon 30–40 ms, in which nobody else is served: such a frame is refused unread.
  it("refuses a frame nested deeper than the limit without parsing it; one within it is answered as usual", async () => {
    const ws = await rawWebSocket();
    const replies: Array<{ type: string; id?: number | null; error?: { code: string; message: string } }> = [];
    ws.on("message", (data) => replies.push(JSON.parse(String(data))));
    ws.send(JSON.stringify({ type: "hello", protocol: PROTOCOL_VERSION, client: { name: "raw", version: "0" }, token: daemonState(home)!.token }));
    await waitFor("the welcome", () => replies.length === 1);
    const deep = 200_000;
    ws.send(`{"type":"call","id":1,"method":"appinfo.get","args":${"[".repeat(deep)}${"]".repeat(deep)}}`);
    // Within the limit: the frame itself is one level, so the arguments may be MAX_FRAME_DEPTH - 1 deep.
    const within = MAX_FRAME_DEPTH - 1;
    ws.send(`{"type":"call","id":2,"method":"appinfo.get","args":${"[".repeat(within)}${"]".repeat(within)}}`);
    await waitFor("both answers", () => replies.length === 3);
    expect(replies[1]).toMatchObject({
      type: "error",
      id: null,
      error: { code: "bad_frame", message: `frame is nested deeper than ${MAX_FRAME_DEPTH} levels` },
    });
    // Parsed: its arguments are refused by the method's schema, naming the call.
    expect(replies[2]).toMatchObject({ type: "error", id: 2, error: { code: "invalid_argument" } });
    ws.close();
  });
});
