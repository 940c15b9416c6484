// Who a verified Google profile is here: the user its `sub` is linked to, the signed-in account
// it gets linked to (an anonymous one is upgraded), or a new user. UNIQUE(provider, subject)
// keeps one Google account on at most one user.
import type { SignInResult } from "../../../protocol/api/auth.js";
import { FleetError } from "../../../protocol/errors.js";
import type { UserId } from "../../../protocol/ids.js";
import type { MutationCtx } from "../../functions/define.js";
import { signInConnection } from "../signIn.js";
import { createUser, levelForNewUser, requireUserRow } from "../users.js";
import { generateFriendlyName } from "../names.js";
import { PROVIDER } from "./config.js";
import type { VerifiedProfile } from "./oidc.js";
import { TABLES } from "../../model/tables.js";

export function signInWithGoogleProfile(ctx: MutationCtx, profile: VerifiedProfile, linkTo: UserId | null): SignInResult {
  const { db, now } = ctx;
  const linked = db.prepare("SELECT user_id FROM identities WHERE provider = ? AND subject = ?").get(PROVIDER, profile.subject) as
    | { user_id: UserId }
    | undefined;
  const verifiedEmail = profile.emailVerified ? profile.email : null;
  const who = profile.email ?? `Google account ${profile.subject}`;

  if (linked) {
    if (linkTo !== null && linked.user_id !== linkTo) {
      const owner = requireUserRow(db, linked.user_id);
      throw new FleetError(
        "already_exists",
        `${who} is already linked to another ocfleet user (${owner.name}); to use that account, sign out (ocfleet logout) and run ocfleet login --google`,
      );
    }
    db.prepare("UPDATE identities SET last_login_at = ?, email = ?, email_verified = ?, display_name = ? WHERE provider = ? AND subject = ?").run(
      now,
      profile.email,
      profile.emailVerified ? 1 : 0,
      profile.name,
      PROVIDER,
      profile.subject,
    );
    ctx.writes(TABLES.users, linked.user_id); // whoami shows the identity's email and name
    return signInConnection(ctx, requireUserRow(db, linked.user_id), { kind: "google", outcome: "signed_in" });
  }

  let outcome: SignInResult["outcome"];
  let userId: UserId;
  if (linkTo !== null) {
    const current = requireUserRow(db, linkTo);
    userId = current.id;
    if (current.is_anonymous === 1) {
      // The upgrade: the account keeps its id, data and level, and now has a durable identity.
      db.prepare("UPDATE users SET is_anonymous = 0, name = ?, email = COALESCE(?, email), updated_at = ? WHERE id = ?").run(
        profile.name ?? current.name,
        verifiedEmail,
        now,
        current.id,
      );
      outcome = "upgraded";
    } else {
      outcome = "linked";
    }
  } else {
    const name = profile.name ?? profile.email?.split("@")[0] ?? generateFriendlyName(db);
    userId = createUser(db, { name, level: levelForNewUser(db), anonymous: false, email: verifiedEmail, now }).id;
    outcome = "created";
  }
  db.prepare(
    `INSERT INTO identities (user_id, provider, subject, email, email_verified, display_name, created_at, last_login_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(userId, PROVIDER, profile.subject, profile.email, profile.emailVerified ? 1 : 0, profile.name, now, now);
  ctx.writes(TABLES.users, userId);
  return signInConnection(ctx, requireUserRow(db, userId), { kind: "google", outcome });
}
