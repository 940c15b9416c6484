// The protocol fuzzer's storm: lanes of hostile connections to a running daemon (loopback clients,
// hub network clients, a machine link), each sending generated frames one at a time and checking
// that every frame gets what it is owed. Runs in its own process (see runner.ts), so its own work
// does not slow the well-behaved client that measures the daemon.
import { WebSocket } from "ws";
import { pinnedTlsConnect } from "../../src/platform/tls-pin.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../../src/protocol/version.js";
import { FrameGenerator, LinkFrameGenerator, type FuzzFrame, type LinkTarget, type Owed } from "./generator.js";

export interface StormConfig {
  seed: number;
  /** Stop after this many hostile frames, or at this time (ms since the epoch), whichever comes first. */
  hostileFrames: number;
  deadline: number;
  loopback: { port: number; token: string; lanes: number };
  network: { url: string; fingerprint: string; lanes: number };
  link: LinkTarget & { lanes: number };
}

type Outcome = { kind: "error"; code: string } | { kind: "reply"; type: string } | { kind: "close"; code: number } | { kind: "timeout" };

export interface LabelCount {
  sent: number;
  errors: number;
  closes: number;
  replies: number;
}

export interface StormSummary {
  seed: number;
  hostileFrames: number;
  goodFrames: number;
  errors: number;
  closes: number;
  byLabel: Record<string, LabelCount>;
  errorCodes: Record<string, number>;
  closeCodes: Record<string, number>;
  /** What went wrong, frame by frame (the first 50). */
  failures: string[];
  failureCount: number;
  elapsedMs: number;
}

const ANSWER_TIMEOUT_MS = 20_000;

/** One socket and the answers its frames are owed, matched as the daemon sends them. */
class Wire {
  private readonly pending: { owed: Owed; resolve(outcome: Outcome): void; timer: NodeJS.Timeout }[] = [];
  closed: number | null = null;
  readonly opened: Promise<void>;
  /** Every frame received, parsed, for the caller's own waits (the welcome, `linked`). */
  private readonly listeners = new Set<(frame: any) => void>();

  constructor(readonly ws: WebSocket) {
    this.opened = new Promise((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    ws.on("error", () => {}); // a reset after a close is expected here
    ws.on("message", (data, isBinary) => {
      let frame: any;
      try {
        frame = JSON.parse(String(data));
      } catch {
        frame = { type: "unparseable", binary: isBinary };
      }
      for (const listener of this.listeners) listener(frame);
      this.match(frame);
    });
    ws.on("close", (code) => {
      this.closed = code;
      for (const p of this.pending.splice(0)) {
        clearTimeout(p.timer);
        p.resolve({ kind: "close", code });
      }
    });
  }

  private match(frame: any): void {
    let index = -1;
    if (frame.t === "ack") index = this.pending.findIndex((p) => p.owed.kind === "reply" && p.owed.id <= frame.seq);
    else if (frame.type === "error" && frame.id === null)
      index = this.pending.findIndex((p) => p.owed.kind === "bad" && (p.owed.id === null || p.owed.orNull === true));
    else if (typeof frame.id === "number") index = this.pending.findIndex((p) => (p.owed.kind === "bad" || p.owed.kind === "reply") && p.owed.id === frame.id);
    if (index < 0) return;
    const [p] = this.pending.splice(index, 1);
    clearTimeout(p!.timer);
    p!.resolve(frame.type === "error" ? { kind: "error", code: String(frame.error?.code) } : { kind: "reply", type: String(frame.type ?? frame.t) });
  }

  /** Resolves with the first frame `accept` takes, or null if the socket closes first. */
  next(accept: (frame: any) => boolean): Promise<any> {
    return new Promise((resolve) => {
      if (this.closed !== null) return resolve(null);
      const listener = (frame: any) => {
        if (!accept(frame)) return;
        this.listeners.delete(listener);
        resolve(frame);
      };
      this.listeners.add(listener);
      this.ws.once("close", () => resolve(null));
    });
  }

  send(frame: FuzzFrame): Promise<Outcome> {
    const owed = frame.owed;
    const answered = new Promise<Outcome>((resolve) => {
      if (owed.kind === "none") return resolve({ kind: "reply", type: "none" });
      if (this.closed !== null) return resolve({ kind: "close", code: this.closed });
      const timer = setTimeout(() => {
        this.pending.splice(
          this.pending.findIndex((p) => p.resolve === resolve),
          1,
        );
        resolve({ kind: "timeout" });
      }, ANSWER_TIMEOUT_MS);
      this.pending.push({ owed, resolve, timer });
    });
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame.data, { binary: frame.binary === true });
    return answered;
  }
}

export async function runStorm(config: StormConfig): Promise<StormSummary> {
  const started = Date.now();
  const summary: StormSummary = {
    seed: config.seed,
    hostileFrames: 0,
    goodFrames: 0,
    errors: 0,
    closes: 0,
    byLabel: {},
    errorCodes: {},
    closeCodes: {},
    failures: [],
    failureCount: 0,
    elapsedMs: 0,
  };
  const fail = (what: string) => {
    summary.failureCount++;
    if (summary.failures.length < 50) summary.failures.push(what);
  };
  const more = () => summary.hostileFrames < config.hostileFrames && Date.now() < config.deadline;

  /** Sends one frame and checks the answer against what it is owed. */
  async function exchange(wire: Wire, frame: FuzzFrame, hostile: boolean): Promise<Outcome> {
    const count = (summary.byLabel[frame.label] ??= { sent: 0, errors: 0, closes: 0, replies: 0 });
    count.sent++;
    if (hostile) summary.hostileFrames++;
    else summary.goodFrames++;
    const outcome = await wire.send(frame);
    const at = `${frame.label} (frame ${summary.hostileFrames + summary.goodFrames})`;
    if (outcome.kind === "error") {
      count.errors++;
      summary.errors++;
      summary.errorCodes[outcome.code] = (summary.errorCodes[outcome.code] ?? 0) + 1;
      if (outcome.code === "internal") fail(`${at}: the daemon answered 'internal' (a bug)`);
    } else if (outcome.kind === "close") {
      count.closes++;
      summary.closes++;
      summary.closeCodes[outcome.code] = (summary.closeCodes[outcome.code] ?? 0) + 1;
      if (frame.owed.kind === "reply") fail(`${at}: a good frame was answered with close ${outcome.code}`);
    } else if (outcome.kind === "timeout") {
      fail(`${at}: no answer within ${ANSWER_TIMEOUT_MS} ms`);
    } else {
      count.replies++;
      if (frame.owed.kind === "bad" || frame.owed.kind === "close") fail(`${at}: a bad frame was accepted (${outcome.type})`);
    }
    return outcome;
  }

  function open(url: string, fingerprint: string | null): Wire {
    const options = fingerprint
      ? ({ createConnection: (opts: object) => pinnedTlsConnect({ ...opts, fingerprint }) } as ConstructorParameters<typeof WebSocket>[2])
      : undefined;
    return new Wire(new WebSocket(url, options));
  }

  let refusedInARow = 0;
  /** A new socket, or null; after a few refusals in a row the daemon is gone and the storm ends. */
  async function connected(url: string, fingerprint: string | null): Promise<Wire | null> {
    const wire = open(url, fingerprint);
    try {
      await wire.opened;
      refusedInARow = 0;
      return wire;
    } catch (err) {
      fail(`could not connect to ${url}: ${(err as Error).message}`);
      if (++refusedInARow >= 10) summary.hostileFrames = config.hostileFrames;
      return null;
    }
  }

  async function clientLane(lane: number, url: string, fingerprint: string | null, token: string | null): Promise<void> {
    const gen = new FrameGenerator(config.seed + lane * 7919);
    const r = gen.rng;
    while (more()) {
      const wire = await connected(url, fingerprint);
      if (!wire) continue;
      if (r.chance(0.15)) {
        await exchange(wire, gen.preHello(token), true);
        wire.ws.terminate();
        continue;
      }
      const welcome = wire.next((f) => f.type === "welcome" || f.type === "error");
      wire.ws.send(
        JSON.stringify({ type: "hello", protocol: PROTOCOL_VERSION, client: { name: "fuzz", version: PACKAGE_VERSION }, token: token ?? undefined }),
      );
      if ((await welcome)?.type !== "welcome") {
        fail(`${url}: a good hello was not welcomed`);
        wire.ws.terminate();
        continue;
      }
      if (token !== null && r.chance(0.6))
        await exchange(
          wire,
          { label: "sign in", data: JSON.stringify({ type: "call", id: 0, method: "auth.signInAsOwner", args: {} }), owed: { kind: "reply", id: 0 } },
          false,
        );
      const openIds: number[] = [];
      // A connection lives for a few dozen frames, then is closed, dropped, or closed by the daemon.
      for (let frames = 5 + r.int(60); frames > 0 && more() && wire.closed === null; frames--) {
        if (r.chance(0.04)) {
          const burst = gen.subscriptionBurst();
          const outcomes = await Promise.all(burst.frames.map((frame) => exchange(wire, frame, false)));
          burst.ids.forEach((id, i) => outcomes[i]!.kind === "reply" && openIds.push(id));
          if (r.chance(0.5)) break; // dropped with its subscriptions open
          for (const id of burst.ids)
            await exchange(wire, { label: "unsubscribe", data: JSON.stringify({ type: "unsubscribe", id }), owed: { kind: "none" } }, false);
          openIds.splice(0);
          continue;
        }
        const frame = gen.afterHello(openIds);
        const outcome = await exchange(wire, frame, frame.owed.kind !== "reply");
        if (frame.subscribeId !== undefined && outcome.kind === "reply") openIds.push(frame.subscribeId);
      }
      if (r.chance(0.5)) wire.ws.terminate();
      else wire.ws.close();
    }
  }

  async function linkLane(lane: number): Promise<void> {
    const gen = new FrameGenerator(config.seed + 104_729 + lane);
    const link = new LinkFrameGenerator(gen, config.link);
    const r = gen.rng;
    while (more()) {
      const wire = await connected(config.network.url, config.network.fingerprint);
      if (!wire) continue;
      if (r.chance(0.15)) {
        await exchange(wire, link.badHello(), true);
        wire.ws.terminate();
        continue;
      }
      const linked = wire.next((f) => f.t === "linked" || f.type === "error");
      wire.ws.send(link.hello());
      if ((await linked)?.t !== "linked") {
        fail("the fuzzer's machine link was not accepted");
        wire.ws.terminate();
        continue;
      }
      for (let good = r.int(4); good > 0; good--) await exchange(wire, link.heartbeat(), false);
      await exchange(wire, link.bad(), true);
      wire.ws.terminate();
    }
  }

  const lanes: Promise<void>[] = [];
  for (let i = 0; i < config.loopback.lanes; i++) lanes.push(clientLane(i, `ws://127.0.0.1:${config.loopback.port}/`, null, config.loopback.token));
  for (let i = 0; i < config.network.lanes; i++) lanes.push(clientLane(100 + i, config.network.url, config.network.fingerprint, null));
  for (let i = 0; i < config.link.lanes; i++) lanes.push(linkLane(i));
  await Promise.all(lanes);
  summary.elapsedMs = Date.now() - started;
  return summary;
}

// Run as a process: the config in argv[2] as JSON, the summary as the last line of stdout.
if (process.argv[1]?.endsWith("storm.ts")) {
  const config = JSON.parse(process.argv[2]!) as StormConfig;
  runStorm(config).then(
    (summary) => process.stdout.write(`${JSON.stringify(summary)}\n`),
    (err) => {
      process.stderr.write(`${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
