// Google sign-in configuration: the client id, the encrypted client secret, and the issuer's
// endpoints (Google's by default, or discovered from another issuer, which is how tests run).
import type { GoogleConfigView } from "../../../protocol/api/admin.js";
import { FleetError } from "../../../protocol/errors.js";
import type { UserId } from "../../../protocol/ids.js";
import type { SecretKeeper } from "../../crypto.js";
import type { Db } from "../../db/open.js";

export const PROVIDER = "google";
/** Live-query table for provider configuration (key = provider). */

export interface OidcEndpoints {
  issuer: string;
  authorization: string;
  token: string;
  deviceAuthorization: string | null;
  jwks: string;
}

export const GOOGLE_ENDPOINTS: OidcEndpoints = {
  issuer: "https://accounts.google.com",
  authorization: "https://accounts.google.com/o/oauth2/v2/auth",
  token: "https://oauth2.googleapis.com/token",
  deviceAuthorization: "https://oauth2.googleapis.com/device/code",
  jwks: "https://www.googleapis.com/oauth2/v3/certs",
};

/** Google signs some id_tokens with the issuer written without the scheme. */
export function acceptedIssuers(issuer: string): string[] {
  return issuer === GOOGLE_ENDPOINTS.issuer ? [issuer, "accounts.google.com"] : [issuer];
}

interface ConfigRow {
  client_id: string;
  client_secret_sealed: string | null;
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  device_authorization_endpoint: string | null;
  jwks_uri: string;
  enabled: 0 | 1;
  updated_at: number;
  updated_by_name: string | null;
}

/** What the daemon needs to talk to the issuer. Holds the decrypted secret: never return it. */
export interface GoogleClient {
  clientId: string;
  clientSecret: string | null;
  endpoints: OidcEndpoints;
}

function loadRow(db: Db): ConfigRow | undefined {
  return db
    .prepare(
      `SELECT p.*, u.name AS updated_by_name FROM provider_configs p LEFT JOIN users u ON u.id = p.updated_by
       WHERE p.provider = ?`,
    )
    .get(PROVIDER) as ConfigRow | undefined;
}

export function googleConfigView(db: Db): GoogleConfigView {
  const row = loadRow(db);
  if (!row) {
    return {
      configured: false,
      enabled: false,
      clientId: null,
      clientSecretSet: false,
      issuer: GOOGLE_ENDPOINTS.issuer,
      endpoints: {
        authorization: GOOGLE_ENDPOINTS.authorization,
        token: GOOGLE_ENDPOINTS.token,
        deviceAuthorization: GOOGLE_ENDPOINTS.deviceAuthorization,
        jwks: GOOGLE_ENDPOINTS.jwks,
      },
      updatedAt: null,
      updatedBy: null,
    };
  }
  return {
    configured: true,
    enabled: row.enabled === 1,
    clientId: row.client_id,
    clientSecretSet: row.client_secret_sealed !== null,
    issuer: row.issuer,
    endpoints: {
      authorization: row.authorization_endpoint,
      token: row.token_endpoint,
      deviceAuthorization: row.device_authorization_endpoint,
      jwks: row.jwks_uri,
    },
    updatedAt: row.updated_at,
    updatedBy: row.updated_by_name,
  };
}

export function isGoogleAvailable(db: Db): boolean {
  const row = loadRow(db);
  return row !== undefined && row.enabled === 1;
}

/** The configured and enabled client, or a failed_precondition that says how to set it up. */
export function requireGoogleClient(db: Db, secrets: SecretKeeper): GoogleClient {
  const row = loadRow(db);
  if (!row) {
    throw new FleetError(
      "failed_precondition",
      "Google sign-in is not set up on this hub; an admin can set it up with: ocfleet admin google set --client-id … --client-secret …",
    );
  }
  if (row.enabled !== 1)
    throw new FleetError("failed_precondition", "Google sign-in is turned off on this hub; an admin can turn it on with: ocfleet admin google enable");
  return {
    clientId: row.client_id,
    clientSecret: row.client_secret_sealed === null ? null : secrets.decrypt(row.client_secret_sealed),
    endpoints: {
      issuer: row.issuer,
      authorization: row.authorization_endpoint,
      token: row.token_endpoint,
      deviceAuthorization: row.device_authorization_endpoint,
      jwks: row.jwks_uri,
    },
  };
}

export function saveGoogleConfig(
  db: Db,
  secrets: SecretKeeper,
  options: { clientId: string; clientSecret: string | undefined; endpoints: OidcEndpoints; updatedBy: UserId; now: number },
): void {
  const existing = db.prepare("SELECT client_id, client_secret_sealed FROM provider_configs WHERE provider = ?").get(PROVIDER) as
    | { client_id: string; client_secret_sealed: string | null }
    | undefined;
  // Keep the stored secret when only other fields change; a new client id needs its own secret.
  const sealed =
    options.clientSecret !== undefined
      ? secrets.encrypt(options.clientSecret)
      : existing && existing.client_id === options.clientId
        ? existing.client_secret_sealed
        : null;
  const e = options.endpoints;
  db.prepare(
    `INSERT INTO provider_configs (provider, client_id, client_secret_sealed, issuer, authorization_endpoint, token_endpoint,
                                   device_authorization_endpoint, jwks_uri, enabled, updated_at, updated_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
     ON CONFLICT (provider) DO UPDATE SET client_id = excluded.client_id, client_secret_sealed = excluded.client_secret_sealed,
       issuer = excluded.issuer, authorization_endpoint = excluded.authorization_endpoint, token_endpoint = excluded.token_endpoint,
       device_authorization_endpoint = excluded.device_authorization_endpoint, jwks_uri = excluded.jwks_uri,
       updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
  ).run(PROVIDER, options.clientId, sealed, e.issuer, e.authorization, e.token, e.deviceAuthorization, e.jwks, options.now, options.updatedBy);
}

export function setGoogleEnabled(db: Db, enabled: boolean, updatedBy: UserId, now: number): void {
  const { changes } = db
    .prepare("UPDATE provider_configs SET enabled = ?, updated_at = ?, updated_by = ? WHERE provider = ?")
    .run(enabled ? 1 : 0, now, updatedBy, PROVIDER);
  if (changes === 0)
    throw new FleetError(
      "failed_precondition",
      "Google sign-in is not set up yet; set it up first with: ocfleet admin google set --client-id … --client-secret …",
    );
}

/**
 * Endpoints must use https, except on loopback (a local test issuer). Anything else would send
 * the client secret and codes in the clear.
 */
export function checkEndpointUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new FleetError("invalid_argument", `${name} is not a URL: '${value}'`, { field: name });
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new FleetError("invalid_argument", `${name} must be an https URL (http only on loopback), not '${value}'`, { field: name });
  }
  return url.toString();
}

/** Reads an issuer's endpoints from its OpenID discovery document. */
export async function discoverEndpoints(issuer: string): Promise<OidcEndpoints> {
  const base = checkEndpointUrl("issuer", issuer).replace(/\/$/, "");
  const where = `${base}/.well-known/openid-configuration`;
  let doc: Record<string, unknown>;
  try {
    const response = await fetch(where, { signal: AbortSignal.timeout(10_000), headers: { accept: "application/json" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    doc = (await response.json()) as Record<string, unknown>;
  } catch (err) {
    throw new FleetError("unavailable", `cannot read ${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const field = (name: string, required: boolean): string | null => {
    const value = doc[name];
    if (typeof value === "string" && value !== "") return checkEndpointUrl(name, value);
    if (required) throw new FleetError("failed_precondition", `${where} has no ${name}`);
    return null;
  };
  const declaredIssuer = field("issuer", true)!;
  // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
  if (declaredIssuer.replace(/\/$/, "") !== base) {
    throw new FleetError("failed_precondition", `${where} says its issuer is ${declaredIssuer}, not ${base}`);
  }
  return {
    issuer: doc.issuer as string,
    authorization: field("authorization_endpoint", true)!,
    token: field("token_endpoint", true)!,
    deviceAuthorization: field("device_authorization_endpoint", false),
    jwks: field("jwks_uri", true)!,
  };
}
