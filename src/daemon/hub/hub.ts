// The hub side of a daemon, put together: the network listener and the machines' links behind it.
import type { HubEnableArgs, HubStatusView } from "../../protocol/api/hub.js";
import { PACKAGE_VERSION } from "../../protocol/version.js";
import type { SecretKeeper } from "../crypto.js";
import type { Fleet } from "../fleet.js";
import type { Logger } from "../log.js";
import type { InternalRunner } from "../model/context.js";
import type { HubControl } from "./control.js";
import { HubListener, type SharedConnectionOptions } from "./listener.js";
import { MachineLinks } from "./machine-links.js";

export interface HubOptions {
  home: string;
  log: Logger;
  run: InternalRunner;
  fleet: Fleet;
  secrets: SecretKeeper;
  pingEveryMs?: number;
  commandTimeoutMs?: number;
}

export class Hub implements HubControl {
  readonly links: MachineLinks;
  private readonly listener: HubListener;
  private readonly fleet: Fleet;

  constructor(options: HubOptions) {
    this.fleet = options.fleet;
    this.links = new MachineLinks({
      run: options.run,
      fleet: options.fleet,
      secrets: options.secrets,
      log: options.log,
      hubVersion: PACKAGE_VERSION,
      pingEveryMs: options.pingEveryMs ?? 5000,
      commandTimeoutMs: options.commandTimeoutMs ?? 60_000,
    });
    this.listener = new HubListener({ home: options.home, log: options.log, run: options.run, links: this.links });
  }

  bindConnections(connections: SharedConnectionOptions): void {
    this.listener.bindConnections(connections);
  }

  restore(): Promise<void> {
    return this.listener.restore();
  }

  close(): Promise<void> {
    return this.listener.close();
  }

  enable(args: HubEnableArgs): Promise<HubStatusView> {
    return this.listener.enable(args);
  }

  disable(): Promise<HubStatusView> {
    return this.listener.disable();
  }

  status(): HubStatusView {
    return this.listener.status();
  }

  address(): { url: string; fingerprint: string } {
    return this.listener.address();
  }

  approved(machineId: string): void {
    this.links.approved(machineId);
  }

  revoked(machineId: string, reason: string): void {
    this.cutOff(machineId, reason, "machine revoked");
  }

  removed(machineId: string, reason: string): void {
    this.cutOff(machineId, reason, "machine removed");
  }

  /** Cuts the link at once and takes the machine offline through the fleet, as the liveness timeout does. */
  private cutOff(machineId: string, reason: string, offlineReason: string): void {
    this.links.cut(machineId, reason);
    this.fleet.detach(machineId, offlineReason);
  }

  isLinked(machineId: string): boolean {
    return this.links.isLinked(machineId);
  }
}
