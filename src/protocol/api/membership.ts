// On a machine that joined a hub: its membership (joining, waiting for approval, approved, revoked).
import { action, defineModule, query, type NoArgs } from "./define.js";

export interface MembershipView {
  hubUrl: string;
  fingerprint: string;
  machineId: string | null;
  name: string | null;
  /** refused: the hub refused the invite (used, expired, unknown); revoked: the hub revoked this machine. */
  state: "joining" | "pending" | "approved" | "revoked" | "refused";
  /** Why it is revoked or refused. */
  reason: string | null;
  connected: boolean;
  lastError: string | null;
  joinedAt: number;
}

export const membership = defineModule("membership", {
  join: action<{ token: string; name?: string }, MembershipView>(),
  leave: action<NoArgs, { left: boolean }>(),
  /** null when this machine has not joined a hub. */
  status: query<NoArgs, MembershipView | null>(),
});
