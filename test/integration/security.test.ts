import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { api } from "../../src/protocol/api/index.js";
import { FleetError } from "../../src/protocol/errors.js";
import { MAX_FRAME_BYTES } from "../../src/protocol/frames.js";
import { PROTOCOL_VERSION } from "../../src/protocol/version.js";
import { cleanupHomes, connect, createHome, daemonState } from "../helpers/daemon.js";

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

function url() {
  return `ws://127.0.0.1:${daemonState(home)!.port}/`;
}

/** Opens a raw socket; resolves with the HTTP status if the upgrade is refused. */
function upgrade(headers: Record<string, string>): Promise<{ refused: number } | { ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url(), { headers });
    ws.once("unexpected-response", (_req, res) => resolve({ refused: res.statusCode ?? 0 }));
    ws.once("open", () => resolve({ ws }));
    ws.once("error", reject);
  });
}

/** Sends frames on a raw socket and collects what comes back until it closes or `count` frames arrive. */
function exchange(ws: WebSocket, frames: Array<string | Buffer>, count: number): Promise<{ frames: any[]; closeCode?: number }> {
  return new Promise((resolve) => {
    const received: any[] = [];
    ws.on("message", (data) => {
      received.push(JSON.parse(String(data)));
      if (received.length === count) resolve({ frames: received });
    });
    ws.on("close", (code) => resolve({ frames: received, closeCode: code }));
    for (const frame of frames) ws.send(frame, { binary: Buffer.isBuffer(frame) });
  });
}

const hello = (token: string | undefined) => JSON.stringify({ type: "hello", protocol: PROTOCOL_VERSION, client: { name: "raw", version: "0" }, token });

async function authedSocket(): Promise<WebSocket> {
  const opened = await upgrade({});
  if (!("ws" in opened)) throw new Error("upgrade refused");
  const reply = await exchange(opened.ws, [hello(daemonState(home)!.token)], 1);
  expect(reply.frames[0].type).toBe("welcome");
  opened.ws.removeAllListeners();
  return opened.ws;
}

describe("the local API refuses strangers", () => {
  it("refuses a hello with a wrong token", async () => {
    const opened = await upgrade({});
    if (!("ws" in opened)) throw new Error("upgrade refused");
    const reply = await exchange(opened.ws, [hello("wrong-token")], 2);
    expect(reply.frames[0].error).toMatchObject({ code: "unauthenticated" });
    expect(reply.closeCode).toBe(4401);
  });

  it("refuses a hello without a token, and any frame before the hello", async () => {
    for (const first of [hello(undefined), JSON.stringify({ type: "call", id: 1, method: "appinfo.get", args: {} })]) {
      const opened = await upgrade({});
      if (!("ws" in opened)) throw new Error("upgrade refused");
      const reply = await exchange(opened.ws, [first], 2);
      expect(reply.frames[0].error.code).toBe("unauthenticated");
      expect(reply.closeCode).toBe(4401);
    }
  });

  it("refuses any Origin header (cross-site requests from a browser)", async () => {
    expect(await upgrade({ Origin: "https://evil.example" })).toEqual({ refused: 403 });
    expect(await upgrade({ Origin: `http://127.0.0.1:${daemonState(home)!.port}` })).toEqual({ refused: 403 });
  });

  it("refuses a Host other than its loopback address and port (DNS rebinding)", async () => {
    const port = daemonState(home)!.port;
    for (const host of ["evil.example", `localhost:${port}`, `127.0.0.1:${port + 1}`, "127.0.0.1"]) {
      expect(await upgrade({ Host: host }), host).toEqual({ refused: 403 });
    }
  });

  it("refuses a client of another protocol version", async () => {
    const opened = await upgrade({});
    if (!("ws" in opened)) throw new Error("upgrade refused");
    const frame = JSON.stringify({ type: "hello", protocol: PROTOCOL_VERSION + 1, client: { name: "raw", version: "0" }, token: daemonState(home)!.token });
    const reply = await exchange(opened.ws, [frame], 2);
    expect(reply.frames[0].error.code).toBe("protocol_mismatch");
  });
});

describe("bad input gets an error, never a crash", () => {
  it("names the invalid field", async () => {
    const error = await client.call(api.checklists.addItem, { key: "k", text: "   " }).catch((e: FleetError) => e);
    expect(error).toBeInstanceOf(FleetError);
    expect(error).toMatchObject({ code: "invalid_argument", data: { field: "text" } });
    const missing = await client.callMethod("checklists.addItem", { key: "k" }).catch((e: FleetError) => e);
    expect(missing).toMatchObject({ code: "invalid_argument", data: { field: "text" } });
    const unknownKey = await client.callMethod("checklists.get", { key: "k", bogus: 1 }).catch((e: FleetError) => e);
    expect(unknownKey).toMatchObject({ code: "invalid_argument", data: { field: "bogus" } });
    const wrongId = (await client.callMethod("checklists.toggleItem", { key: "k", itemId: "usr_0000000000000000" }).catch((e: FleetError) => e)) as FleetError;
    expect(wrongId).toMatchObject({ code: "invalid_argument", data: { field: "itemId" } });
    expect(wrongId.message).toContain("cki_");
  });

  it("answers an unknown method with unknown_method", async () => {
    await expect(client.callMethod("nope.nothing", {})).rejects.toMatchObject({ code: "unknown_method" });
  });

  it("answers oversized, non-JSON, binary and malformed frames with errors, and keeps serving", async () => {
    const ws = await authedSocket();
    const oversized = JSON.stringify({ type: "call", id: 1, method: "appinfo.get", args: { pad: "x".repeat(MAX_FRAME_BYTES) } });
    const reply = await exchange(
      ws,
      [
        oversized,
        "{not json",
        Buffer.from([1, 2, 3]),
        JSON.stringify({ id: 2 }),
        JSON.stringify({ type: "call", id: "x", method: 5 }),
        JSON.stringify({ type: "call", id: 3, method: "appinfo.get", args: {} }),
      ],
      6,
    );
    expect(reply.frames.map((f) => f.error?.code ?? f.type)).toEqual(["frame_too_large", "bad_frame", "bad_frame", "bad_frame", "bad_frame", "result"]);
    ws.close();
  });

  it("refuses to subscribe to something that is not a query", async () => {
    const errors: FleetError[] = [];
    client.subscribe(api.checklists.addItem as any, { key: "k", text: "x" }, { onValue: () => {}, onError: (e) => errors.push(e) });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(errors[0]).toMatchObject({ code: "invalid_argument" });
  });

  it("is still up and answering after all of that", async () => {
    const info = await client.call(api.appinfo.get, {});
    expect(info.pid).toBe(daemonState(home)!.pid);
  });
});
