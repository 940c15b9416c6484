// Talking to the OpenID issuer: the authorization URL with PKCE, the code exchange, the device
// flow, and verification of id_tokens with jose. Nothing a client sends about who it is is
// trusted: identity comes only from an id_token whose signature, issuer, audience, expiry and
// nonce all check out.
import { createHash, randomBytes } from "node:crypto";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import { FleetError } from "../../../protocol/errors.js";
import { acceptedIssuers, type GoogleClient } from "./config.js";

const SCOPES = "openid email profile";
const HTTP_TIMEOUT_MS = 15_000;
/** Allowed clock difference with the issuer when checking exp, iat and nbf. */
const CLOCK_TOLERANCE_S = 30;

export interface VerifiedProfile {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

export function buildAuthorizationUrl(client: GoogleClient, options: { redirectUri: string; state: string; nonce: string; challenge: string }): string {
  const url = new URL(client.endpoints.authorization);
  url.search = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: options.redirectUri,
    response_type: "code",
    scope: SCOPES,
    state: options.state,
    nonce: options.nonce,
    code_challenge: options.challenge,
    code_challenge_method: "S256",
    prompt: "select_account",
  }).toString();
  return url.toString();
}

interface TokenEndpointReply {
  status: number;
  body: Record<string, unknown>;
}

async function postForm(url: string, form: Record<string, string>, what: string): Promise<TokenEndpointReply> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
  } catch (err) {
    throw new FleetError("unavailable", `cannot reach the sign-in provider's ${what} (${url}): ${err instanceof Error ? err.message : String(err)}`);
  }
  let body: Record<string, unknown>;
  try {
    body = (await response.json()) as Record<string, unknown>;
  } catch {
    throw new FleetError("unavailable", `the sign-in provider's ${what} answered HTTP ${response.status} without JSON`);
  }
  return { status: response.status, body };
}

function providerError(body: Record<string, unknown>): { error: string; description: string } {
  return {
    error: typeof body.error === "string" ? body.error : "unknown_error",
    description: typeof body.error_description === "string" ? body.error_description : "",
  };
}

function withSecret(client: GoogleClient, form: Record<string, string>): Record<string, string> {
  return client.clientSecret === null ? form : { ...form, client_secret: client.clientSecret };
}

/** Exchanges an authorization code (with its PKCE verifier) for the id_token. */
export async function exchangeCode(client: GoogleClient, options: { code: string; redirectUri: string; verifier: string }): Promise<string> {
  const reply = await postForm(
    client.endpoints.token,
    withSecret(client, {
      grant_type: "authorization_code",
      code: options.code,
      redirect_uri: options.redirectUri,
      client_id: client.clientId,
      code_verifier: options.verifier,
    }),
    "token endpoint",
  );
  if (reply.status !== 200) {
    const { error, description } = providerError(reply.body);
    const hint = error === "invalid_grant" ? " (the code was already used, has expired, or does not match this sign-in)" : "";
    throw new FleetError(
      "unauthenticated",
      `Google refused the sign-in code: ${error}${description ? `: ${description}` : ""}${hint}; run ocfleet login --google again`,
    );
  }
  return idTokenOf(reply.body);
}

function idTokenOf(body: Record<string, unknown>): string {
  if (typeof body.id_token !== "string") throw new FleetError("unauthenticated", "Google's token answer has no id_token; nothing was signed in");
  return body.id_token;
}

const jwksByUri = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function jwksFor(uri: string): ReturnType<typeof createRemoteJWKSet> {
  let jwks = jwksByUri.get(uri);
  if (!jwks) jwksByUri.set(uri, (jwks = createRemoteJWKSet(new URL(uri), { timeoutDuration: HTTP_TIMEOUT_MS })));
  return jwks;
}

/**
 * Verifies an id_token: RS256 signature against the issuer's JWKS, iss, aud, exp (jose), then the
 * nonce when the flow has one (the device flow has none). Every failure is an unauthenticated
 * error that says which check failed.
 */
export async function verifyIdToken(client: GoogleClient, idToken: string, options: { nonceMatches?: (nonce: string) => boolean }): Promise<VerifiedProfile> {
  const fail = (why: string) => new FleetError("unauthenticated", `Google sign-in failed: ${why}; nothing was signed in`);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, jwksFor(client.endpoints.jwks), {
      issuer: acceptedIssuers(client.endpoints.issuer),
      audience: client.clientId,
      algorithms: ["RS256"],
      clockTolerance: CLOCK_TOLERANCE_S,
      requiredClaims: ["sub", "exp", "iat"],
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw fail("the id_token has expired (check this machine's clock)");
    if (err instanceof joseErrors.JWTClaimValidationFailed) {
      if (err.claim === "aud") throw fail("the id_token was issued for another client (its audience is not this hub's client id)");
      if (err.claim === "iss") throw fail(`the id_token was not issued by ${client.endpoints.issuer}`);
      throw fail(`the id_token's ${err.claim} claim is invalid (${err.reason})`);
    }
    if (err instanceof joseErrors.JWKSNoMatchingKey) throw fail("the id_token is signed with a key the issuer does not publish");
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw fail("the id_token's signature does not match the issuer's keys");
    if (err instanceof joseErrors.JOSEAlgNotAllowed) throw fail("the id_token is not signed with RS256");
    if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid)
      throw new FleetError("unavailable", `cannot read the issuer's keys from ${client.endpoints.jwks}`);
    if (err instanceof joseErrors.JOSEError) throw fail(`the id_token is invalid (${err.code})`);
    throw err;
  }
  if (options.nonceMatches) {
    if (typeof payload.nonce !== "string" || !options.nonceMatches(payload.nonce)) {
      throw fail("the id_token does not carry this sign-in's nonce (a replayed or foreign token)");
    }
  }
  return {
    subject: payload.sub!,
    email: typeof payload.email === "string" ? payload.email : null,
    emailVerified: payload.email_verified === true || payload.email_verified === "true",
    name: typeof payload.name === "string" ? payload.name : null,
  };
}

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUrl: string;
  verificationUrlComplete: string | null;
  expiresInMs: number;
  intervalMs: number;
}

/** Starts the device flow (RFC 8628). Google names the URL `verification_url`, the RFC `verification_uri`. */
export async function startDeviceAuthorization(client: GoogleClient): Promise<DeviceAuthorization> {
  if (!client.endpoints.deviceAuthorization) {
    throw new FleetError("failed_precondition", "the configured issuer has no device authorization endpoint; use ocfleet login --google without --device");
  }
  const reply = await postForm(client.endpoints.deviceAuthorization, { client_id: client.clientId, scope: SCOPES }, "device authorization endpoint");
  const body = reply.body;
  if (reply.status !== 200) {
    const { error, description } = providerError(body);
    throw new FleetError("failed_precondition", `Google refused to start a device sign-in: ${error}${description ? `: ${description}` : ""}`);
  }
  const verificationUrl = body.verification_uri ?? body.verification_url;
  if (typeof body.device_code !== "string" || typeof body.user_code !== "string" || typeof verificationUrl !== "string") {
    throw new FleetError("unavailable", "Google's device authorization answer lacks device_code, user_code or verification URL");
  }
  const complete = body.verification_uri_complete ?? body.verification_url_complete;
  const seconds = (value: unknown, fallback: number) => (typeof value === "number" && value > 0 ? value : fallback);
  return {
    deviceCode: body.device_code,
    userCode: body.user_code,
    verificationUrl,
    verificationUrlComplete: typeof complete === "string" ? complete : null,
    expiresInMs: seconds(body.expires_in, 1800) * 1000,
    // RFC 8628 §3.2: 5 seconds when the server names no interval.
    intervalMs: seconds(body.interval, 5) * 1000,
  };
}

export type DevicePollOutcome =
  | { kind: "pending" }
  | { kind: "slow_down"; intervalMs: number | null }
  | { kind: "approved"; idToken: string }
  | { kind: "expired" }
  | { kind: "denied" };

/**
 * One poll of the token endpoint. Branches on the `error` field, never on the HTTP status: Google
 * answers a pending authorization with 428 and slow_down with 403, where RFC 8628 says 400.
 */
export async function pollDeviceToken(client: GoogleClient, deviceCode: string): Promise<DevicePollOutcome> {
  const reply = await postForm(
    client.endpoints.token,
    withSecret(client, { grant_type: "urn:ietf:params:oauth:grant-type:device_code", device_code: deviceCode, client_id: client.clientId }),
    "token endpoint",
  );
  if (reply.status === 200 && reply.body.error === undefined) return { kind: "approved", idToken: idTokenOf(reply.body) };
  const { error, description } = providerError(reply.body);
  switch (error) {
    case "authorization_pending":
      return { kind: "pending" };
    case "slow_down":
      return { kind: "slow_down", intervalMs: typeof reply.body.interval === "number" ? reply.body.interval * 1000 : null };
    case "expired_token":
      return { kind: "expired" };
    case "access_denied":
      return { kind: "denied" };
    default:
      throw new FleetError(
        "unauthenticated",
        `Google refused the device sign-in: ${error}${description ? `: ${description}` : ""}; run ocfleet login --google --device again`,
      );
  }
}
