// The agent's link to a remote hub: it always dials out (machines behind NAT need nothing opened),
// pins the hub's certificate fingerprint, joins with the invite once and then uses its credential,
// sends the outbox in order and resends what was not acknowledged after a reconnect, answers
// commands once per id, and reconnects with backoff and jitter until the hub revokes it.
import { WebSocket } from "ws";
import { FleetError, type ErrorPayload } from "../../protocol/errors.js";
import { HARD_FRAME_BYTES, type HelloFrame, type ServerFrame } from "../../protocol/frames.js";
import { parseFrameText } from "../../protocol/json-depth.js";
import { hubFrameSchema, LINK_CLOSE, LINK_RATE, LINK_VERSION, type AgentFrame, type HubFrame, type LinkHello } from "../../protocol/link.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../../protocol/version.js";
import { pinnedTlsConnect } from "../../platform/tls-pin.js";
import { machineFacts } from "../agent/agent.js";
import type { AgentLink, AgentReport, CommandHandler, HubCommandName } from "../agent/link.js";
import type { SecretKeeper } from "../crypto.js";
import type { Db } from "../db/open.js";
import type { Logger } from "../log.js";
import type { InternalRunner } from "../model/context.js";
import { readMembership, updateMembership, type MembershipRow } from "../model/membership.js";
import { fitForHub } from "./fit.js";
import { LinkRateLimit } from "./link-rate.js";
import { Outbox } from "./outbox.js";

export interface DialerOptions {
  db: Db;
  run: InternalRunner;
  secrets: SecretKeeper;
  log: Logger;
  /** First reconnect delay; doubles to 30 s, each with jitter. */
  backoffMs: number;
  /** Called when the hub takes this machine in (after every reconnect): report everything afresh. */
  onLinked(): void;
  /** Called when the hub refuses or revokes this machine for good. */
  onEnded(): void;
}

const MAX_BACKOFF_MS = 30_000;
/** Command results kept for ids the hub might send again. */
const REMEMBERED_COMMANDS = 1000;
/** Unsent reports read from the outbox per step. */
const SEND_BATCH = 500;
/** Past this much queued on the socket, sending waits for it to drain. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

export class HubDialer implements AgentLink {
  private handler: CommandHandler | undefined;
  private ws: WebSocket | null = null;
  private approvedOpen = false;
  private stopped = true;
  private attempt = 0;
  private retry: NodeJS.Timeout | undefined;
  /** Highest seq sent on the current socket. */
  private sentUpTo = 0;
  private sending = false;
  private readonly outbox: Outbox;
  private readonly commands = new Map<number, Promise<AgentFrame>>();
  /** What this socket may still send (LINK_RATE.agent), and the timer that waits for more. */
  private rate = new LinkRateLimit(LINK_RATE.agent);
  private paced: NodeJS.Timeout | undefined;
  /** Pacing is said once per socket in the log. */
  private pacedOnce = false;

  constructor(private readonly options: DialerOptions) {
    this.outbox = new Outbox(options.db, () => this.sendPending(), options.log);
  }

  report(report: AgentReport): void {
    // A heartbeat is news only now: none are kept for later.
    if (report.type === "machine.heartbeat" && !this.approvedOpen) return;
    this.outbox.add(report);
  }

  serve(handler: CommandHandler): void {
    this.handler = handler;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  /** Stops dialing and closes the link. `forget` empties the outbox too (leaving the hub). */
  stop(forget = false): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.ws?.close(1000, "leaving");
    this.ws = null;
    this.approvedOpen = false;
    if (forget) this.outbox.clear();
  }

  private membership(): MembershipRow | null {
    return this.options.run.runQuery(readMembership, {});
  }

  private update(changes: Parameters<typeof updateMembership.handler>[1]): void {
    this.options.run.runMutation(updateMembership, changes);
  }

  private connect(): void {
    const row = this.membership();
    if (this.stopped || !row || row.state === "revoked" || row.state === "refused") return;
    const hello: HelloFrame = { type: "hello", protocol: PROTOCOL_VERSION, client: { name: "ocfleet-agent", version: PACKAGE_VERSION } };
    const link: LinkHello =
      row.credential_sealed && row.machine_id
        ? { version: LINK_VERSION, machine: { id: row.machine_id, credential: this.options.secrets.decrypt(row.credential_sealed) } }
        : {
            version: LINK_VERSION,
            join: { secret: this.options.secrets.decrypt(row.invite_sealed!), facts: machineFacts(), ...(row.name ? { name: row.name } : {}) },
          };
    hello.link = link;
    const ws = new WebSocket(row.hub_url, {
      perMessageDeflate: false,
      maxPayload: HARD_FRAME_BYTES,
      handshakeTimeout: 10_000,
      createConnection: (opts: object) => pinnedTlsConnect({ ...opts, fingerprint: row.fingerprint }),
    } as ConstructorParameters<typeof WebSocket>[2]);
    this.ws = ws;
    this.sentUpTo = 0;
    this.rate = new LinkRateLimit(LINK_RATE.agent);
    this.pacedOnce = false;
    let greeted = false;
    ws.on("open", () => ws.send(JSON.stringify(hello)));
    ws.on("message", (data) => {
      let raw: unknown;
      try {
        raw = parseFrameText(data.toString());
      } catch {
        return;
      }
      if (!greeted && (raw as ServerFrame).type === "error") return this.refused((raw as Extract<ServerFrame, { type: "error" }>).error, row);
      const parsed = hubFrameSchema.safeParse(raw);
      if (!parsed.success) {
        this.options.log.warnThrottled("link-frame", "the hub sent a frame this agent does not understand", { error: parsed.error.message.slice(0, 300) });
        return;
      }
      greeted = true;
      this.receive(ws, parsed.data);
    });
    ws.on("error", (err) => {
      this.options.log.warnThrottled("link-error", "the link to the hub failed", { hub: row.hub_url, error: err.message });
      this.update({ last_error: err.message.slice(0, 500) });
    });
    ws.on("close", (code, reason) => {
      if (this.ws === ws) {
        this.ws = null;
        this.approvedOpen = false;
      }
      if (this.membership()?.connected) this.update({ connected: 0 });
      if (code === LINK_CLOSE.revoked) return this.revoked(reason.toString() || "revoked by the hub");
      if (code === LINK_CLOSE.rateLimited) {
        this.options.log.warn("the hub cut the link: this machine sent faster than its limit", { reason: reason.toString() });
        this.update({ last_error: `the hub cut the link: ${reason.toString()}` });
      }
      if (this.stopped || this.ws !== null) return;
      const delay = Math.min(MAX_BACKOFF_MS, this.options.backoffMs * 2 ** this.attempt) * (0.5 + Math.random() / 2);
      this.attempt = Math.min(this.attempt + 1, 16);
      this.retry = setTimeout(() => this.connect(), delay);
      this.retry.unref();
    });
  }

  /** The hub refused the hello: a refused invite or a credential it no longer takes. Either way, no retrying. */
  private refused(error: ErrorPayload, row: MembershipRow): void {
    this.options.log.warn("the hub refused this machine", { hub: row.hub_url, reason: error.message });
    if (error.code !== "unauthenticated") {
      this.update({ last_error: error.message });
      return;
    }
    this.update({ state: row.credential_sealed ? "revoked" : "refused", state_reason: error.message, connected: 0 });
    this.stop();
    this.options.onEnded();
  }

  private revoked(reason: string): void {
    this.options.log.warn("the hub revoked this machine; not reconnecting", { reason });
    this.update({ state: "revoked", state_reason: reason, connected: 0 });
    this.stop();
    this.options.onEnded();
  }

  private receive(ws: WebSocket, frame: HubFrame): void {
    switch (frame.t) {
      case "linked": {
        this.attempt = 0;
        const changes: Parameters<typeof updateMembership.handler>[1] = {
          machine_id: frame.machineId,
          name: frame.name,
          state: frame.approval,
          connected: 1,
          last_error: null,
        };
        if (frame.credential) {
          changes.credential_sealed = this.options.secrets.encrypt(frame.credential);
          changes.invite_sealed = null;
        }
        this.update(changes);
        this.options.log.info("linked to the hub", { machine: frame.machineId, approval: frame.approval });
        if (frame.approval === "approved") this.becameApproved();
        return;
      }
      case "approved":
        this.update({ state: "approved" });
        this.becameApproved();
        return;
      case "ack":
        this.outbox.acknowledge(frame.seq);
        return;
      case "ping":
        return sendFrame(ws, { t: "pong", at: frame.at });
      case "command":
        void this.runCommand(frame.id, frame.name, frame.args).then((result) => this.sendAnswer(ws, frame.name, result));
        return;
      case "revoked":
        return this.revoked(frame.reason);
    }
  }

  private becameApproved(): void {
    this.approvedOpen = true;
    this.options.onLinked();
    this.outbox.flush();
    this.sendPending();
  }

  /**
   * A command's answer, cut to what the hub takes (hub/fit.ts): one too large (a reply megabytes
   * long, read back) would close the link, and every other answer in flight with it.
   */
  private sendAnswer(ws: WebSocket, name: string, answer: AgentFrame): void {
    const { json, cut } = fitForHub(answer, 0);
    if (cut) this.options.log.warn("cut a command's answer to fit what the hub takes", { command: name, sent: json.length });
    if (ws.readyState === ws.OPEN) ws.send(json);
  }

  /** Runs a command once per id: the same id again gets the first answer. */
  private runCommand(id: number, name: string, args: unknown): Promise<AgentFrame> {
    let done = this.commands.get(id);
    if (!done) {
      const handler = this.handler;
      done = (async (): Promise<AgentFrame> => {
        if (!handler) return { t: "result", id, error: { code: "unavailable", message: "the agent is not ready yet" } };
        try {
          return { t: "result", id, result: (await handler(name as HubCommandName, args as never)) ?? null };
        } catch (err) {
          const error: ErrorPayload =
            err instanceof FleetError ? err.toPayload() : { code: "internal", message: err instanceof Error ? err.message : String(err) };
          return { t: "result", id, error: { ...error } };
        }
      })();
      this.commands.set(id, done);
      if (this.commands.size > REMEMBERED_COMMANDS) this.commands.delete(this.commands.keys().next().value!);
    }
    return done;
  }

  /** Sends what the outbox holds beyond what this socket already carried, oldest first. */
  private sendPending(): void {
    const ws = this.ws;
    if (this.sending || !ws || !this.approvedOpen || ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_QUEUED_BYTES) {
      setTimeout(() => this.sendPending(), 20).unref();
      return;
    }
    this.sending = true;
    try {
      const entries = this.outbox.after(this.sentUpTo, SEND_BATCH);
      for (const entry of entries) {
        const frame = `{"t":"report","seq":${entry.seq},"report":${entry.body}}`;
        // Paced below the hub's limit, so a backlog after a reconnect never gets the link cut.
        const wait = this.rate.delayFor(Buffer.byteLength(frame));
        if (wait > 0) {
          if (!this.pacedOnce) this.options.log.info("pacing reports to the hub's rate limit", { backlog: entries.length, waitMs: wait });
          this.pacedOnce = true;
          if (!this.paced) this.paced = setTimeout(() => ((this.paced = undefined), this.sendPending()), wait);
          return;
        }
        ws.send(frame);
        this.sentUpTo = entry.seq;
      }
      if (entries.length === SEND_BATCH) setImmediate(() => this.sendPending());
    } finally {
      this.sending = false;
    }
  }
}

function sendFrame(ws: WebSocket, frame: AgentFrame): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
}
