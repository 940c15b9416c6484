// A simulated machine for the fleet benchmark: a real WebSocket over TLS that joins a hub with an
// invite and speaks the real link protocol (numbered reports, heartbeats, answers to commands), and
// plays the part of its workers' OpenCode: sessions, and a reply streamed as OpenCode's events
// (message.updated, part.delta, session.idle), the same report shapes a real agent's outbox sends.
import { WebSocket } from "ws";
import type { OpencodeMessage, OpencodeMessageWithParts } from "../../src/daemon/agent/opencode.js";
import { pinnedTlsConnect } from "../../src/platform/tls-pin.js";
import { LINK_VERSION, parseInviteToken } from "../../src/protocol/link.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../../src/protocol/version.js";

const facts = (i: number) => ({
  hostname: `sim-${i}`,
  platform: "linux",
  release: "6",
  arch: "x64",
  cpus: 2,
  totalMemoryBytes: 1,
  agentVersion: PACKAGE_VERSION,
});
const idle = { runState: "idle", reason: null, pid: 1, startedAt: 1, restartCount: 0, opencodeVersion: "sim" } as const;

/** One simulated session's record, as `session.messages` answers it. */
interface SimSession {
  workerId: string;
  messages: OpencodeMessageWithParts[];
}

export class SimAgent {
  private seq = 0;
  private ws!: WebSocket;
  private beat: NodeJS.Timeout | undefined;
  private nextId = 0;
  readonly workers: string[] = [];
  private readonly sessions = new Map<string, SimSession>();
  /** Called when the hub hands a prompt to one of this machine's sessions. */
  onPrompt: ((workerId: string, sessionId: string, text: string) => void) | null = null;

  constructor(
    private readonly index: number,
    private readonly heartbeatMs: number,
  ) {}

  join(token: string): Promise<void> {
    const invite = parseInviteToken(token);
    this.ws = new WebSocket(invite.url, {
      perMessageDeflate: false,
      createConnection: (opts: object) => pinnedTlsConnect({ ...opts, fingerprint: invite.fingerprint }),
    } as ConstructorParameters<typeof WebSocket>[2]);
    return new Promise((resolve, reject) => {
      this.ws.once("error", reject);
      this.ws.on("open", () =>
        this.ws.send(
          JSON.stringify({
            type: "hello",
            protocol: PROTOCOL_VERSION,
            client: { name: "sim", version: PACKAGE_VERSION },
            link: { version: LINK_VERSION, join: { secret: invite.secret, facts: facts(this.index) } },
          }),
        ),
      );
      this.ws.on("message", (data) => {
        const frame = JSON.parse(data.toString());
        if (frame.type === "error") return reject(new Error(frame.error.message));
        if (frame.t === "linked") {
          this.beat = setInterval(() => this.report({ type: "machine.heartbeat", facts: facts(this.index), at: Date.now() }), this.heartbeatMs);
          this.report({ type: "machine.heartbeat", facts: facts(this.index), at: Date.now() });
          resolve();
        } else if (frame.t === "ping") this.send({ t: "pong", at: frame.at });
        else if (frame.t === "command") this.answer(frame.id, frame.name, frame.args);
      });
    });
  }

  private id(kind: string): string {
    return `${kind}_sim${this.index}_${++this.nextId}`;
  }

  private answer(id: number, name: string, args: any): void {
    const result = (value: unknown) => this.send({ t: "result", id, result: value });
    switch (name) {
      case "directory.inspect":
        return result({ directory: args.directory });
      case "worker.start":
        this.workers.push(args.worker.id);
        result(idle);
        return this.runtime(args.worker.id, "idle");
      case "session.create": {
        const sessionId = this.id("ses");
        this.sessions.set(sessionId, { workerId: args.workerId, messages: [] });
        return result({ sessionId });
      }
      case "session.exists":
        return result({ exists: this.sessions.has(args.sessionId) });
      case "session.messages":
        return result({ messages: (this.sessions.get(args.sessionId)?.messages ?? []).slice(-(args.limit ?? 1000)) });
      case "requests.pending":
        return result({ events: [] });
      case "session.prompt":
        result({ ok: true });
        return this.onPrompt?.(args.workerId, args.sessionId, args.text);
      case "session.abort":
        return result({ ok: true });
    }
    this.send({ t: "result", id, error: { code: "unavailable", message: `the simulation does not do ${name}` } });
  }

  runtime(workerId: string, runState: "idle" | "active"): void {
    this.report({ type: "worker.runtime", workerId, runtime: { ...idle, runState }, at: Date.now() });
  }

  /**
   * Streams a reply into a session as OpenCode's events: the user message, the assistant message,
   * `chunks` deltas `everyMs` apart, each "[i:t]" with t = performance.now() when it is sent (as the
   * fake model's "stream timed"), then the completed message and idle. Resolves after the last event.
   */
  async streamReply(sessionId: string, chunks: number, everyMs: number): Promise<void> {
    const session = this.sessions.get(sessionId)!;
    const now = Date.now();
    const base = { sessionId, providerId: "sim", modelId: "sim", tokens: null, cost: null, error: null };
    const user: OpencodeMessage = { ...base, id: this.id("msg"), role: "user", parentId: null, createdAt: now, completedAt: now, finish: null };
    const reply: OpencodeMessage = { ...base, id: this.id("msg"), role: "assistant", parentId: user.id, createdAt: now, completedAt: null, finish: null };
    const partId = this.id("prt");
    const event = (e: Record<string, unknown>) => this.report({ type: "worker.event", workerId: session.workerId, event: { sessionId, ...e }, at: Date.now() });
    event({ type: "session.status", status: { type: "busy" } });
    event({ type: "message.updated", message: user });
    event({ type: "message.updated", message: reply });
    let text = "";
    for (let i = 0; i < chunks; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, everyMs));
      const delta = `[${i}:${performance.now().toFixed(3)}]`;
      text += delta;
      event({ type: "part.delta", messageId: reply.id, partId, field: "text", delta });
    }
    const done: OpencodeMessage = { ...reply, completedAt: Date.now(), finish: "stop" };
    session.messages.push({ message: user, parts: [] }, { message: done, parts: [{ id: partId, messageId: reply.id, kind: "text", text }] });
    event({ type: "part.updated", part: { id: partId, messageId: reply.id, kind: "text", text } });
    event({ type: "message.updated", message: done });
    event({ type: "session.idle" });
  }

  private report(report: unknown): void {
    this.send({ t: "report", seq: ++this.seq, report });
  }

  private send(frame: unknown): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(frame));
  }

  close(): void {
    clearInterval(this.beat);
    this.ws.terminate();
  }
}
