// The machine's owner: the user that a local connection signs in as (auth.signInAsOwner). The
// first one is created on first use, as an anonymous system_admin with a generated name.
import { generateFriendlyName } from "./accounts/names.js";
import { createUser, type UserRow } from "./accounts/users.js";
import type { Db } from "./db/open.js";

/** Returns the owner, creating it on first use. Call inside a transaction. */
export function ensureOwnerUser(db: Db, now: number): { owner: UserRow; created: boolean } {
  const existing = db.prepare("SELECT * FROM users WHERE is_owner = 1").get() as UserRow | undefined;
  if (existing) return { owner: existing, created: false };
  const owner = createUser(db, { name: generateFriendlyName(db), level: "system_admin", anonymous: true, isOwner: true, now });
  return { owner, created: true };
}
