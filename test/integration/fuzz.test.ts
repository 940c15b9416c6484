// The protocol fuzzer with a fixed seed against a real daemon (loopback API, hub listener, a machine
// link), and the defects it found, each pinned by a test of its own.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket } from "ws";
import { afterAll, describe, expect, it } from "vitest";
import { pinnedTlsConnect } from "../../src/platform/tls-pin.js";
import { api } from "../../src/protocol/api/index.js";
import { MAX_FRAME_DEPTH } from "../../src/protocol/json-depth.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../../src/protocol/version.js";
import { cleanupHomes, connect, createHome, daemonState, waitFor } from "../helpers/daemon.js";
import { formatReport, runFuzz, startHubTarget } from "../fuzz/runner.js";

const projects = mkdtempSync(join(tmpdir(), "ocf-fuzz-project-"));
afterAll(async () => {
  await cleanupHomes();
  rmSync(projects, { recursive: true, force: true });
});

/** A raw socket that records every frame and the close code. */
async function rawSocket(url: string, fingerprint?: string): Promise<{ ws: WebSocket; frames: any[]; closed: Promise<number> }> {
  const options = fingerprint
    ? ({ createConnection: (o: object) => pinnedTlsConnect({ ...o, fingerprint }) } as ConstructorParameters<typeof WebSocket>[2])
    : {};
  const ws = new WebSocket(url, options);
  const frames: any[] = [];
  ws.on("message", (data) => frames.push(JSON.parse(String(data))));
  const closed = new Promise<number>((resolve) => ws.once("close", resolve));
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return { ws, frames, closed };
}

/** A machine link opened with a real machine's credential, once the hub has said `linked`. */
async function linkAs(name: string, url: string, fingerprint: string, machine: { machineId: string; credential: string }) {
  const link = await rawSocket(url, fingerprint);
  link.ws.send(
    JSON.stringify({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      client: { name, version: PACKAGE_VERSION },
      link: { version: 1, machine: { id: machine.machineId, credential: machine.credential } },
    }),
  );
  await waitFor("the link", () => link.frames.some((f) => f.t === "linked"));
  return link;
}

// The fuzzer's own run: FUZZ_FRAMES hostile frames with a fixed seed (`npm run fuzz` sends more, for as long as asked).
const FUZZ_SEED = 20_261_130;
const FUZZ_FRAMES = 2000;

describe("the protocol fuzzer", () => {
  it(`survives ${FUZZ_FRAMES} hostile frames with seed ${FUZZ_SEED}: every bad frame answered, memory back, the database whole, a good client served`, async () => {
    const report = await runFuzz({ seed: FUZZ_SEED, hostileFrames: FUZZ_FRAMES, seconds: 40 });
    expect(report.failures, formatReport(report)).toEqual([]);
    expect(report.storm.hostileFrames).toBeGreaterThanOrEqual(FUZZ_FRAMES * 0.5);
    expect(report.storm.errors + report.storm.closes).toBeGreaterThanOrEqual(report.storm.hostileFrames);
    expect(report.latency.stormCalls).toBeGreaterThan(0);
  }, 120_000);
});

describe("what the fuzzer found", () => {
  it("refuses a call or subscribe that reuses the id of an open subscription, answering without the id", async () => {
    const home = createHome("ocf-fuzz-");
    (await connect(home)).close();
    const { port, token } = daemonState(home)!;
    const { ws, frames } = await rawSocket(`ws://127.0.0.1:${port}/`);
    ws.send(JSON.stringify({ type: "hello", protocol: PROTOCOL_VERSION, client: { name: "replay", version: PACKAGE_VERSION }, token }));
    ws.send(JSON.stringify({ type: "subscribe", id: 5, method: api.appinfo.get.name, args: {} }));
    await waitFor("the subscription's value", () => frames.some((f) => f.type === "value" && f.id === 5));
    ws.send(JSON.stringify({ type: "call", id: 5, method: api.appinfo.get.name, args: {} }));
    ws.send(JSON.stringify({ type: "subscribe", id: 5, method: api.appinfo.get.name, args: {} }));
    // Answered in order; the last call proves nothing else is on its way.
    ws.send(JSON.stringify({ type: "call", id: 6, method: api.appinfo.get.name, args: {} }));
    await waitFor("the last call's result", () => frames.some((f) => f.id === 6));
    const replies = frames.filter((f) => f.type !== "welcome" && !(f.type === "value" && f.id === 5) && f.id !== 6);
    expect(replies).toMatchObject([
      { type: "error", id: null, error: { code: "bad_frame", message: "id 5 is already in use by a subscription" } },
      { type: "error", id: null, error: { code: "bad_frame", message: "id 5 is already in use by a subscription" } },
    ]);
    ws.terminate();
  });

  it("answers a hello whose protocol is nested thousands deep, from a stranger without the token, and lives on", async () => {
    const home = createHome("ocf-fuzz-");
    const client = await connect(home);
    const { port, pid } = daemonState(home)!;
    const { ws, frames, closed } = await rawSocket(`ws://127.0.0.1:${port}/`);
    // It fits in the 8 KiB allowed before a hello; naming it back in the error used to overflow the stack and stop the
    // daemon. Now it is refused before it is parsed, as nested deeper than any frame may be.
    const depth = 4000;
    ws.send(`{"type":"hello","protocol":${"[".repeat(depth)}${"]".repeat(depth)}}`);
    expect(await closed).toBe(4401);
    expect(frames).toMatchObject([{ type: "error", id: null, error: { code: "bad_frame", message: `frame is nested deeper than ${MAX_FRAME_DEPTH} levels` } }]);
    // Within the limit, the hello's own check names back only a number.
    const shallow = await rawSocket(`ws://127.0.0.1:${port}/`);
    const within = MAX_FRAME_DEPTH - 1;
    shallow.ws.send(`{"type":"hello","protocol":${"[".repeat(within)}${"]".repeat(within)}}`);
    expect(await shallow.closed).toBe(4400);
    expect(shallow.frames).toMatchObject([
      { type: "error", id: null, error: { code: "protocol_mismatch", message: expect.stringContaining("must be a number") } },
    ]);
    expect(await client.call(api.appinfo.get, {})).toMatchObject({ pid });
    client.close();
  });

  describe("on a machine's link", () => {
    it("cuts the link of a machine that reports about another machine's worker, and the report changes nothing", async () => {
      const home = createHome("ocf-fuzz-");
      const { owner, url, fingerprint, target } = await startHubTarget(home, projects);
      const before = await owner.call(api.workers.get, { worker: "victim" });
      const link = await linkAs("forger", url, fingerprint, target);
      const runtime = { runState: "active", reason: null, pid: 4242, startedAt: 1, restartCount: 0, opencodeVersion: "forged" };
      link.ws.send(JSON.stringify({ t: "report", seq: 1, report: { type: "worker.runtime", workerId: target.victimWorkerId, runtime, at: Date.now() } }));
      expect(await link.closed).toBe(1008);
      // Counted as seen, so an agent would not send it again.
      expect(link.frames).toContainEqual({ t: "ack", seq: 1 });
      const after = await owner.call(api.workers.get, { worker: "victim" });
      expect(after).toMatchObject({ runState: before.runState, pid: before.pid });
      expect(after.pid).not.toBe(4242);
      owner.close();
    });

    it("cuts the link on a binary frame, even one whose bytes are a good report", async () => {
      const home = createHome("ocf-fuzz-");
      const { owner, url, fingerprint, target } = await startHubTarget(home, projects);
      owner.close();
      const link = await linkAs("binary", url, fingerprint, target);
      const facts = { hostname: "h", platform: "linux", release: "6", arch: "x64", cpus: 1, totalMemoryBytes: 1, agentVersion: PACKAGE_VERSION };
      link.ws.send(Buffer.from(JSON.stringify({ t: "report", seq: 1, report: { type: "machine.heartbeat", facts, at: Date.now() } })), { binary: true });
      expect(await link.closed).toBe(1008);
      expect(link.frames.filter((f) => f.t === "ack")).toEqual([]);
    });
  });
});
