// Machines: the computers in the fleet, each running a daemon whose agent supervises its workers.
import type { MachineId } from "../ids.js";
import { defineModule, query, type NoArgs } from "./define.js";

export type Approval = "pending" | "approved" | "revoked";

export interface MachineView {
  id: MachineId;
  name: string;
  hostname: string;
  platform: string | null;
  release: string | null;
  arch: string | null;
  agentVersion: string | null;
  /** The machine this daemon runs on. */
  isLocal: boolean;
  approval: Approval;
  online: boolean;
  lastHeartbeatAt: number | null;
  /** The link's last measured round trip (remote machines), in ms. */
  rttMs: number | null;
  /** Whether its ocfleet is the hub's version (null until it has said). */
  versionMatches: boolean | null;
  /** Why it was revoked. */
  approvalReason: string | null;
  workers: { total: number; running: number; active: number; error: number };
}

export const machines = defineModule("machines", {
  list: query<NoArgs, MachineView[]>(),
});
