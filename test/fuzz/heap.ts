// The fuzzed daemon's retained memory: it runs with the V8 inspector on loopback, and the runner asks
// V8 through it for a full collection and then the heap's size. What is left after a full collection
// is what the daemon keeps; RSS also holds garbage not yet collected and the young generation V8
// grew under load (sizing, not retention), so RSS is reported but not judged.
import { WebSocket } from "ws";

/** The inspector's address, from the "Debugger listening on ws://…" line Node writes to the daemon's log. */
export function inspectorUrl(log: string): string | null {
  return /Debugger listening on (ws:\/\/\S+)/.exec(log)?.[1] ?? null;
}

/** Collects all garbage in the daemon (several full collections, as a heap snapshot would) and returns the heap's used size in MB. */
export async function liveHeapAfterFullGc(url: string): Promise<number> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let next = 0;
  const call = (method: string) =>
    new Promise<any>((resolve, reject) => {
      const id = ++next;
      const onMessage = (data: unknown) => {
        const frame = JSON.parse(String(data));
        if (frame.id !== id) return;
        ws.off("message", onMessage);
        if (frame.error) reject(new Error(`${method}: ${frame.error.message}`));
        else resolve(frame.result);
      };
      ws.on("message", onMessage);
      ws.send(JSON.stringify({ id, method }));
    });
  try {
    await call("HeapProfiler.collectGarbage");
    const { usedSize } = (await call("Runtime.getHeapUsage")) as { usedSize: number };
    return usedSize / 1e6;
  } finally {
    ws.close();
  }
}
