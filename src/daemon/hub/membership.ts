// This machine's membership of a hub: joining (the agent then takes its commands from the hub over
// the dialer, and this daemon's own hub sees its machine as away), leaving (back to its own hub),
// and coming back to the right one after a restart.
import { rmSync } from "node:fs";
import { joinedHubPath } from "../../client/hubs.js";
import { writePrivateFileAtomic } from "../../platform/files.js";
import type { MembershipView } from "../../protocol/api/membership.js";
import { FleetError } from "../../protocol/errors.js";
import { parseInviteToken } from "../../protocol/link.js";
import type { Agent } from "../agent/agent.js";
import type { AgentLink, HubLink } from "../agent/link.js";
import type { SecretKeeper } from "../crypto.js";
import type { Db } from "../db/open.js";
import type { Fleet } from "../fleet.js";
import type { Logger } from "../log.js";
import type { InternalRunner } from "../model/context.js";
import { createMembership, deleteMembership, readMembership, toMembershipView } from "../model/membership.js";
import type { AgentLinkSwitch } from "./agent-switch.js";
import type { MembershipControl } from "./control.js";
import { HubDialer } from "./dialer.js";

export interface MembershipOptions {
  /** The state directory, where `joined-hub.json` tells this machine's clients which hub to talk to. */
  home: string;
  db: Db;
  run: InternalRunner;
  secrets: SecretKeeper;
  log: Logger;
  fleet: Fleet;
  agent: Agent;
  agentLink: AgentLinkSwitch;
  /** This daemon's own hub's link to this machine's agent. */
  local: { machineId: string; hub: HubLink; agent: AgentLink };
  backoffMs: number;
  /** How long stopping the workers may take when joining or leaving. */
  stopWorkersMs: number;
}

export class Membership implements MembershipControl {
  private readonly dialer: HubDialer;

  constructor(private readonly options: MembershipOptions) {
    this.dialer = new HubDialer({
      db: options.db,
      run: options.run,
      secrets: options.secrets,
      log: options.log,
      backoffMs: options.backoffMs,
      onLinked: () => options.agent.reportState(),
      // Refused or revoked: this machine's clients go back to its own daemon, where `machine status` says why.
      onEnded: () => this.forgetJoinedHub(),
    });
  }

  /** At daemon start: serve the hub this machine belongs to. */
  start(): void {
    if (this.options.run.runQuery(readMembership, {})) this.serveRemote();
    else this.serveLocal();
  }

  private forgetJoinedHub(): void {
    rmSync(joinedHubPath(this.options.home), { force: true });
  }

  stop(): void {
    this.dialer.stop();
  }

  async join(token: string, name: string | undefined): Promise<MembershipView> {
    let invite: ReturnType<typeof parseInviteToken>;
    try {
      invite = parseInviteToken(token);
    } catch (err) {
      throw new FleetError("invalid_argument", (err as Error).message, { field: "token" });
    }
    const existing = this.options.run.runQuery(readMembership, {});
    if (existing) throw new FleetError("already_exists", `this machine already joined ${existing.hub_url}; run ocfleet machine leave first`);
    // The workers this daemon's own hub asked for stop: from now on the remote hub decides what runs here.
    await this.options.agent.supervisor.shutdown(this.options.stopWorkersMs);
    this.options.run.runMutation(createMembership, {
      hubUrl: invite.url,
      fingerprint: invite.fingerprint,
      name: name ?? null,
      inviteSealed: this.options.secrets.encrypt(invite.secret),
    });
    this.serveRemote();
    return toMembershipView(this.options.run.runQuery(readMembership, {})!);
  }

  async leave(): Promise<{ left: boolean }> {
    const existing = this.options.run.runQuery(readMembership, {});
    if (!existing) return { left: false };
    this.dialer.stop(true);
    await this.options.agent.supervisor.shutdown(this.options.stopWorkersMs);
    this.options.run.runMutation(deleteMembership, {});
    this.options.log.info("left the hub", { hub: existing.hub_url });
    this.serveLocal();
    return { left: true };
  }

  private serveRemote(): void {
    const { fleet, local, agentLink } = this.options;
    const row = this.options.run.runQuery(readMembership, {})!;
    // This machine's clients talk to the hub from now on (client/hubs.ts), pinned to the invite's fingerprint.
    if (row.state === "revoked" || row.state === "refused") this.forgetJoinedHub();
    else writePrivateFileAtomic(joinedHubPath(this.options.home), `${JSON.stringify({ url: row.hub_url, fingerprint: row.fingerprint })}\n`);
    fleet.detach(local.machineId, `this machine belongs to the hub at ${row.hub_url}`);
    agentLink.use(this.dialer);
    this.dialer.start();
  }

  private serveLocal(): void {
    const { fleet, local, agentLink } = this.options;
    this.forgetJoinedHub();
    agentLink.use(local.agent);
    fleet.attach(local.hub);
    this.options.agent.reportState();
    void fleet.resume(local.machineId);
  }
}
