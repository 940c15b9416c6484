// The hub's end of machines' links over the network: the link hello (join with an invite, or a
// machine credential), one WebSocketHubLink per machine (commands with ids, results, timeouts),
// reports applied once and acknowledged, pings for the round-trip time, approval and revocation.
import type { WebSocket } from "ws";
import type { LinkTraffic } from "../../protocol/api/hub.js";
import { FleetError, type ErrorPayload } from "../../protocol/errors.js";
import { parseFrameText } from "../../protocol/json-depth.js";
import { agentFrameSchema, LINK_CLOSE, LINK_RATE, LINK_VERSION, linkHelloSchema, type AgentFrame, type HubFrame } from "../../protocol/link.js";
import type { AgentReport, HubCommandName, HubCommands, HubLink } from "../agent/link.js";
import type { LinkAcceptor } from "../connection.js";
import { randomToken, type SecretKeeper } from "../crypto.js";
import type { Fleet } from "../fleet.js";
import type { Logger } from "../log.js";
import type { InternalRunner } from "../model/context.js";
import { machineForLink, recordRtt, redeemInvite } from "../model/hub.js";
import { LinkRateLimit } from "./link-rate.js";

export interface MachineLinksOptions {
  run: InternalRunner;
  fleet: Fleet;
  secrets: SecretKeeper;
  log: Logger;
  hubVersion: string;
  /** How often the hub pings each machine (the round-trip time shown by `machine list`). */
  pingEveryMs: number;
  /** How long a command may wait for the machine's answer. */
  commandTimeoutMs: number;
}

/**
 * Command ids are unique across this hub's links and lifetimes (the agent answers an id it has seen
 * with the first answer): a counter that starts at the clock, in microseconds, when the hub starts.
 */
let nextCommandId = Date.now() * 1000;

/** The hub's end of one machine's link over a WebSocket. */
export class WebSocketHubLink implements HubLink {
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void; timer: NodeJS.Timeout; name: string }>();
  private closedWith: FleetError | undefined;

  constructor(
    readonly machineId: string,
    private readonly machineName: string,
    private readonly ws: WebSocket,
    private readonly timeoutMs: number,
  ) {}

  command<N extends HubCommandName>(name: N, args: HubCommands[N]["args"]): Promise<HubCommands[N]["result"]> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = nextCommandId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new FleetError("timeout", `the machine did not answer ${name} within ${Math.round(this.timeoutMs / 1000)} s`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer, name });
      send(this.ws, { t: "command", id, name, args });
    });
  }

  settle(frame: Extract<AgentFrame, { t: "result" }>): void {
    const call = this.pending.get(frame.id);
    if (!call) return;
    this.pending.delete(frame.id);
    clearTimeout(call.timer);
    if (frame.error) call.reject(FleetError.fromPayload(frame.error as ErrorPayload));
    else call.resolve(frame.result);
  }

  /**
   * The socket closed. Commands still waiting fail now rather than at their timeout, and are not sent
   * again on the next link: the hub cannot know whether they ran, and a prompt run twice is worse than
   * one the user sends again (see "Commands while the link is down" in architecture.md).
   */
  close(reason: string): void {
    const machine = `machine '${this.machineName}'`;
    this.closedWith ??= new FleetError("unavailable", `the link to ${machine} closed (${reason}); try again once it is back (ocfleet machine list)`, {
      machineId: this.machineId,
    });
    for (const call of this.pending.values()) {
      clearTimeout(call.timer);
      call.reject(
        new FleetError(
          "unavailable",
          `the link to ${machine} closed (${reason}) before it answered ${call.name}, which may or may not have happened there; check, then try again once it is back`,
          { machineId: this.machineId, command: call.name },
        ),
      );
    }
    this.pending.clear();
  }
}

interface LiveLink {
  ws: WebSocket;
  link: WebSocketHubLink;
  approved: boolean;
  ping: NodeJS.Timeout;
  /** The highest sequence number committed and not yet acknowledged; acknowledged once per tick. */
  ackSeq: number | null;
  /** What it may still send (LINK_RATE.hub). */
  rate: LinkRateLimit;
  /** Cut for going past its limit: the rest of what it sent is not read. */
  closing: boolean;
}

function send(ws: WebSocket, frame: HubFrame): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
}

export class MachineLinks {
  private readonly live = new Map<string, LiveLink>();

  constructor(private readonly options: MachineLinksOptions) {}

  get count(): number {
    return this.live.size;
  }

  /** What each connected link has sent, for `hub status`. */
  traffic(): LinkTraffic[] {
    return [...this.live].map(([machineId, live]) => ({ machineId, ...live.rate.seen }));
  }

  isLinked(machineId: string): boolean {
    return this.live.has(machineId);
  }

  /** For the network listener's hello: takes the socket over, or says why not. */
  readonly accept: LinkAcceptor = (raw, ws) => {
    const parsed = linkHelloSchema.safeParse(raw);
    if (!parsed.success) return { refused: "not a valid machine link hello" };
    const hello = parsed.data;
    if (hello.version !== LINK_VERSION) {
      return { refused: `this machine speaks link version ${hello.version} and the hub ${LINK_VERSION}: run the same ocfleet version on both` };
    }
    const { run, secrets } = this.options;
    if ("join" in hello) {
      const credential = randomToken(32);
      try {
        const joined = run.runMutation(redeemInvite, {
          secretDigest: secrets.digest(hello.join.secret),
          credentialDigest: secrets.digest(credential),
          facts: hello.join.facts,
          name: hello.join.name,
        });
        this.options.log.info("a machine joined", { machine: joined.machineId, name: joined.name, approval: joined.approval });
        this.open(ws, joined.machineId, joined.name, joined.approval === "approved", credential);
        return { accepted: true };
      } catch (err) {
        if (err instanceof FleetError) return { refused: err.message };
        throw err;
      }
    }
    const row = run.runQuery(machineForLink, { machineId: hello.machine.id });
    if (!row?.credential_digest || !secrets.matches(hello.machine.credential, row.credential_digest)) {
      return { refused: "the hub does not know this machine's credential (it may have been removed); join again with a new invite" };
    }
    if (row.approval === "revoked") return { refused: `this machine was revoked on the hub${row.approval_reason ? `: ${row.approval_reason}` : ""}` };
    this.open(ws, row.id, row.name, row.approval === "approved", undefined);
    return { accepted: true };
  };

  private open(ws: WebSocket, machineId: string, name: string, approved: boolean, credential: string | undefined): void {
    const previous = this.live.get(machineId);
    if (previous) previous.ws.close(LINK_CLOSE.replaced, "a newer link of this machine took over");
    const link = new WebSocketHubLink(machineId, name, ws, this.options.commandTimeoutMs);
    const ping = setInterval(() => send(ws, { t: "ping", at: Date.now() }), this.options.pingEveryMs);
    ping.unref();
    const live: LiveLink = { ws, link, approved: false, ping, ackSeq: null, rate: new LinkRateLimit(LINK_RATE.hub), closing: false };
    this.live.set(machineId, live);
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (live.closing) return;
      if (!live.rate.take(data.length)) return this.overLimit(machineId, live);
      this.receive(machineId, live, isBinary ? null : data.toString());
    });
    ws.on("close", () => {
      clearInterval(ping);
      link.close("disconnected");
      this.options.fleet.unlink(link);
      if (this.live.get(machineId) === live) this.live.delete(machineId);
    });
    send(ws, { t: "linked", machineId, name, approval: approved ? "approved" : "pending", hubVersion: this.options.hubVersion, credential });
    send(ws, { t: "ping", at: Date.now() });
    if (approved) this.attach(machineId, live);
  }

  private attach(machineId: string, live: LiveLink): void {
    live.approved = true;
    this.options.fleet.attach(live.link);
    void this.options.fleet.resume(machineId);
  }

  /** `text` is null for a binary frame: the link, like the client protocol, is JSON text only. */
  private receive(machineId: string, live: LiveLink, text: string | null): void {
    let frame: AgentFrame;
    try {
      if (text === null) throw new Error("a binary frame");
      frame = agentFrameSchema.parse(parseFrameText(text));
    } catch (err) {
      // A machine that sends what the contract does not allow is out of step: drop the link, it will say why in its log.
      this.options.log.warnThrottled(`link-frame:${machineId}`, "closing a machine link that sent an invalid frame", {
        machineId,
        error: err instanceof Error ? err.message.slice(0, 300) : String(err),
      });
      live.ws.close(1008, "invalid link frame");
      return;
    }
    switch (frame.t) {
      case "report": {
        if (!live.approved) return; // not acknowledged: the agent sends it again once approved
        const outcome = this.options.fleet.receive(machineId, frame.report as AgentReport, frame.seq);
        if (outcome === "failed") return;
        if (outcome === "forged") {
          // An honest agent never names another machine's worker: this one is out of step or hostile. The report
          // counts as seen (acknowledged, so it is not sent again), and the link is cut; the hub's log says why.
          send(live.ws, { t: "ack", seq: Math.max(live.ackSeq ?? 0, frame.seq) });
          live.ws.close(1008, "a report about another machine's worker");
          return;
        }
        if (live.ackSeq === null) setImmediate(() => this.flushAck(live));
        live.ackSeq = Math.max(live.ackSeq ?? 0, frame.seq);
        return;
      }
      case "result":
        live.link.settle(frame);
        return;
      case "pong":
        this.options.run.runMutation(recordRtt, { machineId, rttMs: Math.max(0, Date.now() - frame.at) });
        return;
    }
  }

  /** A machine that sends faster than any real one does is cut, said why, and may come back after its backoff. */
  private overLimit(machineId: string, live: LiveLink): void {
    live.closing = true;
    const { framesPerSecond, bytesPerSecond } = live.rate.rate;
    const reason = `sending faster than the hub's limit of ${framesPerSecond} frames or ${Math.round(bytesPerSecond / 1024 / 1024)} MiB per second`;
    this.options.log.warn("closing a machine link that sends faster than its limit", { machineId, framesPerSecond, bytesPerSecond });
    live.ws.close(LINK_CLOSE.rateLimited, reason);
  }

  private flushAck(live: LiveLink): void {
    if (live.ackSeq === null) return;
    send(live.ws, { t: "ack", seq: live.ackSeq });
    live.ackSeq = null;
  }

  /** A pending machine was approved: if it is connected, it becomes part of the fleet now. */
  approved(machineId: string): void {
    const live = this.live.get(machineId);
    if (!live || live.approved) return;
    send(live.ws, { t: "approved" });
    this.attach(machineId, live);
  }

  /** Cuts a machine's link at once; its agent stops retrying and says why. */
  cut(machineId: string, reason: string): void {
    const live = this.live.get(machineId);
    if (!live) return;
    send(live.ws, { t: "revoked", reason });
    live.ws.close(LINK_CLOSE.revoked, reason.slice(0, 120));
    this.live.delete(machineId);
    live.link.close(reason);
    this.options.fleet.unlink(live.link);
  }

  closeAll(reason: string): void {
    for (const [machineId, live] of this.live) {
      live.ws.close(1001, reason);
      live.link.close(reason);
      this.options.fleet.unlink(live.link);
      this.live.delete(machineId);
    }
  }
}
