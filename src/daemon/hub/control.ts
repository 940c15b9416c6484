// What the hub and membership functions may ask of the daemon's hub side and agent side: narrow
// interfaces, so functions/ does not reach into the listener, the links or the dialer.
import type { HubEnableArgs, HubStatusView } from "../../protocol/api/hub.js";
import type { MembershipView } from "../../protocol/api/membership.js";

export interface HubControl {
  enable(args: HubEnableArgs): Promise<HubStatusView>;
  disable(): Promise<HubStatusView>;
  status(): HubStatusView;
  /** What invites carry; failed_precondition when the listener is not running. */
  address(): { url: string; fingerprint: string };
  /** A machine was approved: a connected pending link becomes part of the fleet. */
  approved(machineId: string): void;
  /** A machine was revoked: its link is cut, and it and its workers go offline (their turns end interrupted). */
  revoked(machineId: string, reason: string): void;
  /** A machine is being removed: its link is cut, and it and its workers go offline (their turns end interrupted). */
  removed(machineId: string, reason: string): void;
  /** Whether the machine's link is connected now. */
  isLinked(machineId: string): boolean;
}

export interface MembershipControl {
  /** Joins the hub of the invite: this daemon's agent dials out and takes its commands from there. */
  join(token: string, name: string | undefined): Promise<MembershipView>;
  /** Stops the link and the workers it ran, and forgets the credential. */
  leave(): Promise<{ left: boolean }>;
}
