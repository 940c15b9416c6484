// The hub: this daemon's network listener, which other machines join and remote clients use,
// and the invites that let machines in.
import { action, defineModule, mutation, query, type NoArgs } from "./define.js";

export interface HubStatusView {
  /** Whether the listener should run (it comes back after a restart). */
  enabled: boolean;
  listening: boolean;
  /** host:port it listens on. */
  listen: string | null;
  /** What machines and clients dial: wss://host:port. */
  url: string | null;
  /** SHA256:AB:CD:… of the listener's certificate, which invites carry and clients pin. */
  fingerprint: string | null;
  /** "generated", or the path of the certificate given with --tls-cert. */
  certificate: string | null;
  /** Why the listener is not running although enabled. */
  error: string | null;
  /** Machines whose link is connected now. */
  linkedMachines: number;
  /** What each connected link has sent since it opened, and its busiest second (the rate limit is per link). */
  links: LinkTraffic[];
}

export interface LinkTraffic {
  machineId: string;
  frames: number;
  bytes: number;
  peakFramesPerSecond: number;
  peakBytesPerSecond: number;
}

export interface HubEnableArgs {
  /** host:port; default 0.0.0.0:7433. */
  listen?: string;
  /** wss://… as others reach it, when that is not the listen address. */
  publicUrl?: string;
  tlsCert?: string;
  tlsKey?: string;
}

export interface InviteView {
  id: string;
  /** ocf1.…: the hub's URL, its certificate's fingerprint and a one-time secret. */
  token: string;
  expiresAt: number;
  preApproved: boolean;
}

/** What `machine remove` did: the machine's workers went with it; their chats stay, marked "machine … removed". */
export interface MachineRemoved {
  id: string;
  name: string;
  workersRemoved: string[];
  chatsKept: number;
  schedulesRemoved: number;
}

export const hub = defineModule("hub", {
  enable: action<HubEnableArgs, HubStatusView>(),
  disable: action<NoArgs, HubStatusView>(),
  status: query<NoArgs, HubStatusView>(),
  invite: mutation<{ name?: string; ttlMs?: number; approve?: boolean }, InviteView>(),
  approve: mutation<{ machine: string }, { id: string; name: string }>(),
  revoke: mutation<{ machine: string; reason?: string }, { id: string; name: string }>(),
  rename: mutation<{ machine: string; name: string }, { id: string; name: string }>(),
  /** Refused while the machine is online (revoke it first) or has schedules, unless `force`. */
  remove: action<{ machine: string; force?: boolean }, MachineRemoved>(),
});
