// Test helpers for hubs: enable one on a daemon, invite, and open raw WebSockets to its network
// listener with a pinned certificate, to see exactly what it accepts and refuses.
import { WebSocket } from "ws";
import { api } from "../../src/protocol/api/index.js";
import type { HubStatusView } from "../../src/protocol/api/hub.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../../src/protocol/version.js";
import { pinnedTlsConnect } from "../../src/platform/tls-pin.js";
import { connectAsOwner } from "./daemon.js";

/** Enables the hub on loopback, on a port of the system's choosing. */
export async function enableHub(home: string): Promise<HubStatusView> {
  const owner = await connectAsOwner(home);
  try {
    return await owner.call(api.hub.enable, { listen: "127.0.0.1:0" });
  } finally {
    owner.close();
  }
}

export async function invite(home: string, args: { name?: string; ttlMs?: number; approve?: boolean } = {}): Promise<string> {
  const owner = await connectAsOwner(home);
  try {
    return (await owner.call(api.hub.invite, args)).token;
  } finally {
    owner.close();
  }
}

export interface RawReply {
  /** The first frame the hub sent, parsed. */
  first: any;
  closeCode: number | null;
}

/**
 * Opens a pinned wss connection, sends `hello` (merged over a valid client hello), and resolves with
 * the first frame and, if the hub closed, the close code. Rejects if the socket fails (a pin mismatch).
 */
export function helloOver(url: string, fingerprint: string, hello: Record<string, unknown>, headers: Record<string, string> = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers,
      createConnection: (opts: object) => pinnedTlsConnect({ ...opts, fingerprint }),
    } as ConstructorParameters<typeof WebSocket>[2]);
    let first: any;
    ws.on("open", () => ws.send(JSON.stringify({ type: "hello", protocol: PROTOCOL_VERSION, client: { name: "test", version: PACKAGE_VERSION }, ...hello })));
    ws.on("message", (data) => {
      first ??= JSON.parse(data.toString());
      if (first.type === "welcome" || first.t === "linked") {
        ws.close();
        resolve({ first, closeCode: null });
      }
    });
    ws.on("unexpected-response", (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.on("error", reject);
    ws.on("close", (code) => resolve({ first, closeCode: code }));
  });
}
