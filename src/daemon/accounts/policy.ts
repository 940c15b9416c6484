// How long sign-in artefacts live and how hard wrong codes are punished. Defaults are for real
// use; each can be overridden from the daemon's environment (tests shorten them instead of sleeping).

export interface AuthPolicy {
  /** A session expires this long after its last use. */
  sessionTtlMs: number;
  /** Use of a session extends it at most this often, so calls do not write on every request. */
  sessionTouchEveryMs: number;
  /** `ocfleet auth code` codes. */
  loginCodeTtlMs: number;
  /** Service-desk codes. */
  deskCodeTtlMs: number;
  /** A browser sign-in must come back within this. */
  loginRequestTtlMs: number;
  /** Wrong codes per connection that cost nothing; per source it is `sourceFactor` times as many. */
  freeFailures: number;
  /** Further wrong codes that are answered slowly, before the caller is locked out. */
  slowedFailures: number;
  /** The first slowed answer waits this long; each next one twice as long (capped at 8×). */
  slowdownMs: number;
  lockoutMs: number;
  /** Failures are forgotten this long after the first one. */
  failureWindowMs: number;
  sourceFactor: number;
  /** RFC 8628: a slow_down answer adds this to the device-flow polling interval. */
  deviceSlowDownStepMs: number;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export const DEFAULT_AUTH_POLICY: AuthPolicy = {
  sessionTtlMs: 30 * DAY,
  sessionTouchEveryMs: MINUTE,
  loginCodeTtlMs: MINUTE,
  deskCodeTtlMs: 10 * MINUTE,
  loginRequestTtlMs: 5 * MINUTE,
  freeFailures: 3,
  slowedFailures: 3,
  slowdownMs: 500,
  lockoutMs: 5 * MINUTE,
  failureWindowMs: 15 * MINUTE,
  sourceFactor: 4,
  deviceSlowDownStepMs: 5000,
};

/** Environment variables that override the policy, by field. */
const ENV_NAMES: Partial<Record<keyof AuthPolicy, string>> = {
  sessionTtlMs: "OCFLEET_SESSION_TTL_MS",
  loginCodeTtlMs: "OCFLEET_LOGIN_CODE_TTL_MS",
  deskCodeTtlMs: "OCFLEET_DESK_CODE_TTL_MS",
  loginRequestTtlMs: "OCFLEET_LOGIN_REQUEST_TTL_MS",
  slowdownMs: "OCFLEET_CODE_SLOWDOWN_MS",
  lockoutMs: "OCFLEET_CODE_LOCKOUT_MS",
  deviceSlowDownStepMs: "OCFLEET_DEVICE_SLOWDOWN_STEP_MS",
};

export function readAuthPolicy(env: NodeJS.ProcessEnv = process.env): AuthPolicy {
  const policy: AuthPolicy = { ...DEFAULT_AUTH_POLICY };
  for (const [field, name] of Object.entries(ENV_NAMES) as Array<[keyof AuthPolicy, string]>) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of milliseconds, not '${raw}'`);
    policy[field] = value;
  }
  // A short session lifetime (tests) must still slide: touch well within it.
  policy.sessionTouchEveryMs = Math.min(DEFAULT_AUTH_POLICY.sessionTouchEveryMs, Math.floor(policy.sessionTtlMs / 4));
  return policy;
}
