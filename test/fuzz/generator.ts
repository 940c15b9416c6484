// The protocol fuzzer's generator: a seeded PRNG and the hostile frames it makes, each with the
// answer the daemon owes it (an error or a close for a bad frame, a reply for a good one).
import { api } from "../../src/protocol/api/index.js";
import { HARD_FRAME_BYTES, MAX_FRAME_BYTES, MAX_PRE_HELLO_BYTES } from "../../src/protocol/frames.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../../src/protocol/version.js";

/** mulberry32: small, fast and the same on every machine, so a seed replays a run exactly. */
export class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** Picks a key of `weights` with probability proportional to its weight. */
  weighted<K extends string>(weights: Record<K, number>): K {
    const entries = Object.entries(weights) as [K, number][];
    let roll = this.next() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [key, weight] of entries) if ((roll -= weight) < 0) return key;
    return entries[entries.length - 1]![0];
  }
}

/**
 * What the daemon owes a frame. `bad`: an error frame (with `id`, or null when the frame has no
 * usable id; `orNull`: either) or a close. `reply`: a result, value or error carrying `id`. `none`: nothing (an
 * unsubscribe, a good link frame), so nothing is waited for.
 */
export type Owed = { kind: "bad"; id: number | null; orNull?: boolean } | { kind: "reply"; id: number } | { kind: "close" } | { kind: "none" };

export interface FuzzFrame {
  /** The generator's name for the kind of frame, for the summary. */
  label: string;
  data: string | Buffer;
  /** Sent as a binary frame (text frames carry `data` as UTF-8, or raw bytes for invalid UTF-8). */
  binary?: boolean;
  owed: Owed;
  /** A subscribe: its id stays open if the reply is a value. */
  subscribeId?: number;
}

/** Methods whose random arguments cannot stop the daemon or start processes: every query, and a few writes. */
const SAFE_QUERIES = Object.values(api)
  .flatMap((module) => Object.values(module as Record<string, { name: string; kind: string }>))
  .filter((ref) => ref.kind === "query")
  .map((ref) => ref.name);
const SAFE_METHODS = SAFE_QUERIES.concat([
  api.checklists.addItem.name,
  api.checklists.toggleItem.name,
  api.attendance.mark.name,
  api.discussions.open.name,
  api.discussions.post.name,
  api.auth.loginWithCode.name,
  api.auth.loginWithRecoveryCode.name,
  api.auth.createLoginCode.name,
]);
/** Queries a burst of subscriptions may open: cheap, and valid with these arguments. */
const SUBSCRIBABLE: [string, unknown][] = [
  [api.appinfo.get.name, {}],
  [api.checklists.list.name, {}],
  [api.checklists.get.name, { key: "fuzz" }],
  [api.machines.list.name, {}],
  [api.workers.list.name, {}],
];
const ARG_KEYS = ["key", "text", "id", "user", "worker", "chat", "query", "limit", "all", "since", "machine", "done", "position", "status", "reason", "code"];
const NASTY_STRINGS = [
  "",
  " ",
  "\u0000",
  "\x1b]52;c;SGVsbG8=\x07",
  "\ud800",
  "😀",
  "%s%n",
  "' OR 1=1 --",
  '"',
  "\\",
  "*",
  "a OR",
  "NEAR(",
  "-",
  "../../etc/passwd",
];

export class FrameGenerator {
  readonly rng: Prng;
  private nextId = 1;
  constructor(seed: number) {
    this.rng = new Prng(seed);
  }

  freshId(): number {
    return this.nextId++;
  }

  randomString(max = 40): string {
    const r = this.rng;
    if (r.chance(0.3)) return r.pick(NASTY_STRINGS);
    let text = "";
    const length = r.int(max);
    for (let i = 0; i < length; i++) text += String.fromCharCode(r.chance(0.8) ? 32 + r.int(95) : r.int(0x10000));
    return text;
  }

  randomValue(depth = 0): unknown {
    const r = this.rng;
    switch (r.int(depth > 2 ? 5 : 8)) {
      case 0:
        return this.randomString();
      case 1:
        return r.pick([0, -1, 1, 1.5, 2 ** 53, -(2 ** 63), 1e308, r.int(1000)]);
      case 2:
        return r.chance(0.5);
      case 3:
        return null;
      case 4:
        return r.pick(["fuzz", "standup", "present", "usr_x", "wrk_x"]);
      case 5:
        return Array.from({ length: r.int(4) }, () => this.randomValue(depth + 1));
      default:
        return this.randomArgs(depth + 1);
    }
  }

  randomArgs(depth = 0): unknown {
    const r = this.rng;
    if (depth === 0 && r.chance(0.1)) return r.pick([null, 42, "args", [], undefined]);
    const args: Record<string, unknown> = {};
    for (let i = r.int(4); i > 0; i--) args[r.chance(0.9) ? r.pick(ARG_KEYS) : this.randomString(10)] = this.randomValue(depth);
    return args;
  }

  /** JSON nested `depth` levels deep, as arrays or objects. */
  deep(depth: number): string {
    return this.rng.chance(0.5) ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
  }

  /** The first frame of a client connection that is not a good hello: the socket must be closed. */
  preHello(token: string | null): FuzzFrame {
    const r = this.rng;
    const hello = { type: "hello", protocol: PROTOCOL_VERSION, client: { name: "fuzz", version: PACKAGE_VERSION } };
    const close = { kind: "close" } as const;
    switch (r.weighted({ call: 3, garbage: 2, binary: 1, wrongToken: 2, protocol: 1, deep: 1, oversize: 1, session: 1, badUtf8: 1 })) {
      case "call":
        return { label: "call before hello", data: JSON.stringify({ type: "call", id: this.freshId(), method: r.pick(SAFE_METHODS), args: {} }), owed: close };
      case "garbage":
        return { label: "random bytes before hello", data: this.randomString(200), owed: close };
      case "binary":
        return { label: "binary before hello", data: Buffer.from(this.randomString(64)), binary: true, owed: close };
      case "wrongToken":
        // On the network any token is refused; on loopback, only the right one passes.
        return { label: "wrong token", data: JSON.stringify({ ...hello, token: token === null ? "x".repeat(64) : `${token}x` }), owed: close };
      case "protocol":
        return { label: "wrong protocol", data: JSON.stringify({ ...hello, protocol: r.pick([0, 2, -1, "1", null]), token }), owed: close };
      case "deep": {
        // As deep as fits in the bytes allowed before the hello, in a field the daemon reads.
        const field = r.pick(["protocol", "client", "session", "token", "link"]);
        const depth = Math.floor((MAX_PRE_HELLO_BYTES - 200) / 2) - r.int(2000);
        return { label: "deep hello", data: `{"type":"hello","${field}":${"[".repeat(depth)}${"]".repeat(depth)}}`, owed: close };
      }
      case "oversize":
        return { label: "oversize before hello", data: JSON.stringify({ ...hello, pad: "x".repeat(MAX_PRE_HELLO_BYTES + r.int(100_000)) }), owed: close };
      case "session":
        return {
          label: "bad session in hello",
          data: JSON.stringify({ ...hello, token: token ?? undefined, session: r.pick([42, "s".repeat(500), {}]) }),
          owed: close,
        };
      default:
        return { label: "invalid UTF-8 text", data: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), owed: close };
    }
  }

  /** A hostile or malformed frame on a connection that has said hello. `openIds`: its open subscriptions. */
  afterHello(openIds: number[]): FuzzFrame {
    const r = this.rng;
    const id = this.freshId();
    const call = (method: string, args: unknown) => JSON.stringify({ type: "call", id, method, args });
    const bad = (label: string, data: string | Buffer, owedId: number | null, binary = false): FuzzFrame => ({
      label,
      data,
      binary,
      owed: { kind: "bad", id: owedId },
    });
    const choice = r.weighted({
      randomBytes: 8,
      truncated: 8,
      notObject: 4,
      wrongTypes: 10,
      wrongArgs: 20,
      unknownMethod: 8,
      unknownType: 4,
      helloAgain: 2,
      binary: 4,
      deep: 3,
      huge: 2,
      tooLarge: 1,
      replay: openIds.length > 0 ? 6 : 0,
      badUtf8: 0.5,
      overHard: 0.15,
    });
    switch (choice) {
      case "randomBytes":
        return bad("random bytes", this.randomString(300) || "x", null);
      case "truncated": {
        const whole = call(r.pick(SAFE_METHODS), this.randomArgs());
        return bad("truncated JSON", whole.slice(0, 1 + r.int(whole.length - 1)), null);
      }
      case "notObject":
        return bad("JSON that is not an object", r.pick(["null", "[]", '"call"', "42", "true", "[{}]"]), null);
      case "wrongTypes": {
        const frame: Record<string, unknown> = { type: r.pick(["call", "subscribe", "unsubscribe", 42, null, ["call"]]) };
        frame.id = r.pick([-1, 1.5, "7", null, 2 ** 60, {}, undefined]);
        frame.method = r.chance(0.5) ? r.pick(SAFE_METHODS) : r.pick([42, null, ["x"], undefined]);
        frame.args = this.randomArgs();
        return bad("wrong field types", JSON.stringify(frame), null);
      }
      case "wrongArgs": {
        // Either a refusal naming the id, or (when the random arguments happen to be good) a result: both answer it.
        const subscribe = r.chance(0.2);
        const method = r.pick(subscribe ? SAFE_QUERIES : SAFE_METHODS);
        const data = JSON.stringify({ type: subscribe ? "subscribe" : "call", id, method, args: this.randomArgs() });
        const label = subscribe ? "subscribe with random args" : "call with random args";
        return { label, data, owed: { kind: "reply", id }, subscribeId: subscribe ? id : undefined };
      }
      case "unknownMethod":
        return bad("unknown method", call(r.chance(0.5) ? `${r.pick(["daemon", "hub", "x"])}.${this.randomString(20)}` : this.randomString(30), {}), id);
      case "unknownType":
        return bad("unknown frame type", JSON.stringify({ type: this.randomString(12) || "?", id }), null);
      case "helloAgain":
        return bad("hello again", JSON.stringify({ type: "hello", protocol: PROTOCOL_VERSION, client: { name: "again", version: "0" } }), null);
      case "binary":
        return bad("binary frame", Buffer.from(call("appinfo.get", {})), null, true);
      case "deep": {
        // Too deep for the parser is "not JSON" (no id); parsed, the arguments are refused (with the id).
        const data = `{"type":"call","id":${id},"method":"${r.pick(SAFE_METHODS)}","args":${this.deep(1000 + r.int(200_000))}}`;
        return { label: "deep nesting", data, owed: { kind: "bad", id, orNull: true } };
      }
      case "huge": {
        const size = 100_000 + r.int(MAX_FRAME_BYTES - 200_000);
        const where = r.int(3);
        const text = "h".repeat(size);
        if (where === 0) return bad("huge method name", call(text, {}), id);
        // Over the frame limit the frame is refused unread (no id); under it, the arguments are.
        const data = call(r.pick(SAFE_METHODS), r.chance(0.5) ? { key: text } : { key: text, text, query: text });
        if (where === 1) return bad("huge argument", data, Buffer.byteLength(data) > MAX_FRAME_BYTES ? null : id);
        // A frame's fields other than its own are ignored: a padded good call is answered as any other.
        return {
          label: "padded good call",
          data: JSON.stringify({ type: "call", id, method: "appinfo.get", args: {}, pad: text }),
          owed: { kind: "reply", id },
        };
      }
      case "tooLarge":
        return bad("frame over the size limit", call("appinfo.get", { pad: "L".repeat(MAX_FRAME_BYTES + r.int(2 * MAX_FRAME_BYTES)) }), null);
      case "replay": {
        const used = r.pick(openIds);
        const data = JSON.stringify({ type: r.chance(0.5) ? "call" : "subscribe", id: used, method: "appinfo.get", args: {} });
        return bad("replayed id", data, null);
      }
      case "badUtf8":
        return { label: "invalid UTF-8 text", data: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), owed: { kind: "close" } };
      default:
        return { label: "frame over the hard limit", data: Buffer.alloc(HARD_FRAME_BYTES + 1, 0x20), owed: { kind: "close" } };
    }
  }

  /** A burst of good subscriptions, each owed its first value. */
  subscriptionBurst(): { frames: FuzzFrame[]; ids: number[] } {
    const ids: number[] = [];
    const frames = Array.from({ length: 5 + this.rng.int(40) }, () => {
      const id = this.freshId();
      ids.push(id);
      const [method, args] = this.rng.pick(SUBSCRIBABLE);
      const frame: FuzzFrame = { label: "subscription in a burst", data: JSON.stringify({ type: "subscribe", id, method, args }), owed: { kind: "reply", id } };
      return { ...frame, subscribeId: id };
    });
    return { frames, ids };
  }
}

/** The machine the fuzzer links as (joined with a real invite), and a worker of another machine. */
export interface LinkTarget {
  machineId: string;
  credential: string;
  /** A worker on the hub's own machine: reports naming it from the fuzzer's machine are forged. */
  victimWorkerId: string;
}

const FACTS = { hostname: "fuzz", platform: "linux", release: "6", arch: "x64", cpus: 2, totalMemoryBytes: 1e9, agentVersion: PACKAGE_VERSION };
const RUNTIME = { runState: "active", reason: "forged", pid: 4242, startedAt: 1, restartCount: 0, opencodeVersion: "forged" };

export class LinkFrameGenerator {
  private seq = 1;
  constructor(
    private readonly gen: FrameGenerator,
    private readonly target: LinkTarget,
  ) {}

  hello(): string {
    const { machineId: id, credential } = this.target;
    return JSON.stringify({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      client: { name: "fuzz-link", version: PACKAGE_VERSION },
      link: { version: 1, machine: { id, credential } },
    });
  }

  /** A link hello the hub must refuse (error and 4401). */
  badHello(): FuzzFrame {
    const r = this.gen.rng;
    const machine = { id: this.target.machineId, credential: this.target.credential };
    const link = r.pick<unknown>([
      { version: 2, machine },
      { version: 1, machine: { ...machine, credential: `${machine.credential}x` } },
      { version: 1, machine: { id: "mch_other", credential: machine.credential } },
      { version: 1, join: { secret: this.gen.randomString(30) || "s", facts: FACTS } },
      { version: 1, machine, extra: true },
      JSON.parse(this.gen.deep(500)),
      null,
      // Never undefined: a hello without `link` is a client's hello, and would be welcomed.
      this.gen.randomArgs() ?? 0,
    ]);
    return {
      label: "bad link hello",
      data: JSON.stringify({ type: "hello", protocol: PROTOCOL_VERSION, client: { name: "fuzz", version: "0" }, link }),
      owed: { kind: "close" },
    };
  }

  /** A report the hub applies and acknowledges: owed an ack of its seq. */
  heartbeat(): FuzzFrame {
    const seq = this.seq++;
    const data = JSON.stringify({ t: "report", seq, report: { type: "machine.heartbeat", facts: FACTS, at: Date.now() } });
    return { label: "good heartbeat", data, owed: { kind: "reply", id: seq } };
  }

  /** A frame the link contract does not allow, or one forged about another machine's worker: owed a close. */
  bad(): FuzzFrame {
    const r = this.gen.rng;
    const close = { kind: "close" } as const;
    const workerId = this.target.victimWorkerId;
    const report = (body: Record<string, unknown>) => JSON.stringify({ t: "report", seq: this.seq++, report: { ...body, workerId, at: Date.now() } });
    switch (r.weighted({ forged: 6, randomBytes: 2, truncated: 2, wrongTypes: 3, unknown: 1, binary: 2, deep: 1, tooLarge: 0.3 })) {
      case "forged": {
        const which = r.int(3);
        if (which === 0) return { label: "forged worker.runtime", data: report({ type: "worker.runtime", runtime: RUNTIME }), owed: close };
        if (which === 1) return { label: "forged worker.models", data: report({ type: "worker.models", models: [] }), owed: close };
        return { label: "forged worker.event", data: report({ type: "worker.event", event: { type: "session.idle", sessionId: null } }), owed: close };
      }
      case "randomBytes":
        return { label: "link: random bytes", data: this.gen.randomString(200) || "?", owed: close };
      case "truncated": {
        const whole = this.heartbeat().data as string;
        return { label: "link: truncated JSON", data: whole.slice(0, 1 + r.int(whole.length - 1)), owed: close };
      }
      case "wrongTypes": {
        const frame = r.pick<unknown>([
          { t: "report", seq: r.pick([-1, 0, 1.5, "1"]), report: { type: "machine.heartbeat", facts: FACTS, at: 1 } },
          { t: "report", seq: this.seq++, report: { type: "machine.heartbeat", facts: { ...FACTS, cpus: "two" }, at: 1 } },
          { t: "result", id: "x" },
          { t: "pong", at: "now" },
          { t: "pong", at: 1, extra: this.gen.randomValue() },
          { t: "report", seq: this.seq++, report: { type: "worker.runtime", workerId: "", runtime: RUNTIME, at: 1 } },
          this.gen.randomArgs(),
        ]);
        return { label: "link: wrong types", data: JSON.stringify(frame), owed: close };
      }
      case "unknown":
        return { label: "link: unknown t", data: JSON.stringify({ t: this.gen.randomString(10), seq: 1 }), owed: close };
      case "binary":
        // JSON text frames only, as on the client protocol: a binary frame is refused even when its bytes parse.
        return { label: "link: binary frame", data: Buffer.from(this.heartbeat().data as string), binary: true, owed: close };
      case "deep":
        return { label: "link: deep nesting", data: `{"t":"report","seq":${this.seq++},"report":${this.gen.deep(1000 + r.int(100_000))}}`, owed: close };
      default:
        return { label: "link: frame over the hard limit", data: Buffer.alloc(HARD_FRAME_BYTES + 1, 0x20), owed: close };
    }
  }
}
