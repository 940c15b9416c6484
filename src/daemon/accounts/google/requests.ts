// Google sign-ins in progress: one row per attempt, single use, short-lived. The state and nonce
// are stored as digests and the PKCE verifier and device code encrypted, so the table alone
// cannot complete anyone's sign-in.
import type { GoogleDeviceStart, GoogleLoopbackStart } from "../../../protocol/api/auth.js";
import { FleetError } from "../../../protocol/errors.js";
import type { LoginRequestId, UserId } from "../../../protocol/ids.js";
import { newId, randomToken, type SecretKeeper } from "../../crypto.js";
import type { Db } from "../../db/open.js";
import { PROVIDER, type GoogleClient } from "./config.js";
import { buildAuthorizationUrl, pkcePair, type DeviceAuthorization } from "./oidc.js";

interface RequestRow {
  id: LoginRequestId;
  kind: "loopback" | "device";
  state_digest: string | null;
  nonce_digest: string | null;
  pkce_verifier_sealed: string | null;
  device_code_sealed: string | null;
  redirect_uri: string | null;
  user_id: UserId | null;
  poll_interval_ms: number | null;
  next_poll_at: number | null;
  expires_at: number;
  consumed_at: number | null;
}

/** Only a loopback redirect on this machine: the code must never travel anywhere else. */
export function checkLoopbackRedirect(redirectUri: string): string {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    throw new FleetError("invalid_argument", `redirectUri is not a URL: '${redirectUri}'`, { field: "redirectUri" });
  }
  if (url.protocol !== "http:" || url.hostname !== "127.0.0.1" || url.port === "" || url.search !== "" || url.hash !== "" || url.username !== "") {
    throw new FleetError("invalid_argument", "redirectUri must be http://127.0.0.1:<port>/<path> (a loopback listener on this machine)", {
      field: "redirectUri",
    });
  }
  return redirectUri;
}

export function createLoopbackRequest(
  db: Db,
  secrets: SecretKeeper,
  client: GoogleClient,
  options: { redirectUri: string; userId: UserId | null; now: number; ttlMs: number },
): GoogleLoopbackStart {
  const id = newId("loginRequest");
  const state = randomToken(24);
  const nonce = randomToken(24);
  const pkce = pkcePair();
  const expiresAt = options.now + options.ttlMs;
  db.prepare(
    `INSERT INTO login_requests (id, kind, provider, state_digest, nonce_digest, pkce_verifier_sealed, redirect_uri, user_id, created_at, expires_at)
     VALUES (?, 'loopback', ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    id,
    PROVIDER,
    secrets.digest(state),
    secrets.digest(nonce),
    secrets.encrypt(pkce.verifier),
    options.redirectUri,
    options.userId,
    options.now,
    expiresAt,
  );
  const authorizationUrl = buildAuthorizationUrl(client, { redirectUri: options.redirectUri, state, nonce, challenge: pkce.challenge });
  return { requestId: id, authorizationUrl, state, expiresAt };
}

function loadRequest(db: Db, id: LoginRequestId, kind: RequestRow["kind"], callerUserId: UserId | null, now: number): RequestRow {
  const row = db.prepare("SELECT * FROM login_requests WHERE id = ?").get(id) as RequestRow | undefined;
  const again = kind === "device" ? "ocfleet login --google --device" : "ocfleet login --google";
  if (!row || row.kind !== kind) throw new FleetError("not_found", `no such sign-in in progress; run ${again} again`);
  if (row.consumed_at !== null) throw new FleetError("failed_precondition", `this sign-in was already used; run ${again} again`);
  if (row.expires_at <= now) throw new FleetError("failed_precondition", `this sign-in expired; run ${again} again`);
  // Whoever started it finishes it: the request links Google to the account signed in at the start.
  if (row.user_id !== callerUserId) throw new FleetError("permission_denied", `this sign-in was started by another account; run ${again} again`);
  return row;
}

export interface LoopbackExchange {
  redirectUri: string;
  verifier: string;
  nonceDigest: string;
  linkTo: UserId | null;
}

/** Checks the state and uses the request up, before anything is sent to Google: a replay finds it used. */
export function consumeLoopbackRequest(
  db: Db,
  secrets: SecretKeeper,
  options: { requestId: LoginRequestId; state: string; callerUserId: UserId | null; now: number },
): LoopbackExchange {
  const row = loadRequest(db, options.requestId, "loopback", options.callerUserId, options.now);
  if (!secrets.matches(options.state, row.state_digest!)) {
    throw new FleetError(
      "unauthenticated",
      "Google sign-in failed: the state does not match this sign-in (a forged or mixed-up redirect); nothing was signed in",
    );
  }
  markConsumed(db, row.id, options.now);
  return { redirectUri: row.redirect_uri!, verifier: secrets.decrypt(row.pkce_verifier_sealed!), nonceDigest: row.nonce_digest!, linkTo: row.user_id };
}

export function markConsumed(db: Db, id: LoginRequestId, now: number): void {
  const { changes } = db.prepare("UPDATE login_requests SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL").run(now, id);
  if (changes === 0) throw new FleetError("failed_precondition", "this sign-in was already used; start it again");
}

export function createDeviceRequest(
  db: Db,
  secrets: SecretKeeper,
  device: DeviceAuthorization,
  options: { userId: UserId | null; now: number },
): GoogleDeviceStart {
  const id = newId("loginRequest");
  const expiresAt = options.now + device.expiresInMs;
  db.prepare(
    `INSERT INTO login_requests (id, kind, provider, device_code_sealed, user_id, poll_interval_ms, next_poll_at, created_at, expires_at)
     VALUES (?, 'device', ?, ?, ?, ?, ?, ?, ?)`,
  ).run(id, PROVIDER, secrets.encrypt(device.deviceCode), options.userId, device.intervalMs, options.now + device.intervalMs, options.now, expiresAt);
  return {
    requestId: id,
    userCode: device.userCode,
    verificationUrl: device.verificationUrl,
    verificationUrlComplete: device.verificationUrlComplete,
    expiresAt,
    retryInMs: device.intervalMs,
  };
}

export interface DevicePollState {
  deviceCode: string;
  intervalMs: number;
  nextPollAt: number;
  linkTo: UserId | null;
}

export function loadDeviceRequest(
  db: Db,
  secrets: SecretKeeper,
  options: { requestId: LoginRequestId; callerUserId: UserId | null; now: number },
): DevicePollState {
  const row = loadRequest(db, options.requestId, "device", options.callerUserId, options.now);
  return { deviceCode: secrets.decrypt(row.device_code_sealed!), intervalMs: row.poll_interval_ms!, nextPollAt: row.next_poll_at!, linkTo: row.user_id };
}

export function recordDevicePoll(db: Db, id: LoginRequestId, options: { intervalMs: number; nextPollAt: number }): void {
  db.prepare("UPDATE login_requests SET poll_interval_ms = ?, next_poll_at = ? WHERE id = ?").run(options.intervalMs, options.nextPollAt, id);
}
