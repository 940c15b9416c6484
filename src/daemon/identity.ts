// The machine's owner: the user that a local connection acts as once it proves it is the OS user.
import { userInfo } from "node:os";
import type { UserId } from "../protocol/ids.js";
import { newId } from "./crypto.js";
import type { Db } from "./db/open.js";
import type { CallerUser } from "./functions/define.js";

/** Returns the owner, creating it (as system_admin) on the daemon's first start. */
export function ensureOwnerUser(db: Db, now: number): CallerUser {
  const existing = db.prepare("SELECT id, name, level FROM users WHERE is_owner = 1").get() as CallerUser | undefined;
  if (existing) return existing;
  const owner: CallerUser = { id: newId("user") as UserId, name: osUserName(), level: "system_admin" };
  db.prepare(
    "INSERT INTO users (id, name, level, is_owner, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)",
  ).run(owner.id, owner.name, owner.level, now, now);
  return owner;
}

/** Re-reads the owner, so a renamed owner or a changed level shows at the next call. */
export function loadUser(db: Db, id: UserId): CallerUser | null {
  return (db.prepare("SELECT id, name, level FROM users WHERE id = ?").get(id) as CallerUser | undefined) ?? null;
}

function osUserName(): string {
  try {
    return userInfo().username || "owner";
  } catch {
    return "owner";
  }
}
