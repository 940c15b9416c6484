// serviceDesk: admins helping a user: find them, give them a login code, sign them out everywhere.
import type { AdminUserView } from "./admin.js";
import type { LoginCodeGrant, UserSummary } from "./auth.js";
import { defineModule, mutation } from "./define.js";

export const serviceDesk = defineModule("serviceDesk", {
  /** A mutation rather than a query because every lookup is written to the audit log. */
  findUser: mutation<{ query: string }, AdminUserView[]>(),
  /** A 10-minute single-use code the user signs in with (ocfleet login --code). */
  issueLoginCode: mutation<{ user: string }, LoginCodeGrant & { user: UserSummary }>(),
  revokeSessions: mutation<{ user: string }, { user: UserSummary; revoked: number }>(),
});
