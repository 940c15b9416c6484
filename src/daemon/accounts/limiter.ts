// Rate limiting of wrong codes: a few are free, the next ones are answered ever more slowly,
// then the caller is refused for a while. Kept per connection and, more leniently, per source
// address, in memory: a restart forgets it, which costs an attacker a restart per lockout.
//
// Attempts still being checked count as failures until they succeed, so a burst of guesses sent
// in parallel over many connections is held to the same budget as guesses sent one by one.
// The trade-off: every client behind one address (all local clients share 127.0.0.1) shares the
// source's budget, so a burst of someone else's guesses also locks out the code's rightful user.
// To keep that short, a key's first lockout lasts a quarter of the policy's lockout, and each
// further one within the failure window twice as long as the one before, up to the full length.
// A login code lives 60 s and has 40 bits of entropy, so even a full budget of guesses every
// lockout leaves an attacker with no useful chance; a short first lockout costs nothing there.
import { FleetError } from "../../protocol/errors.js";
import type { AuthPolicy } from "./policy.js";

interface Bucket {
  failures: number;
  /** Attempts admitted and not yet settled: they count as failures until they succeed. */
  pending: number;
  firstFailureAt: number;
  lockedUntil: number;
  /** Lockouts within the failure window: each one lasts twice as long as the one before. */
  lockouts: number;
}

export interface AttemptKey {
  key: string;
  /** Multiplies the policy's free and slowed failure counts (a source is shared by many clients). */
  factor: number;
  /** Only one attempt at a time may be in flight under this key. */
  serial?: boolean;
}

export interface AttemptTicket {
  /** Wait this long before checking the code. */
  delayMs: number;
  settle(success: boolean): void;
}

export class AttemptLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly policy: AuthPolicy,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Admits one code attempt, or throws rate_limited while any key is locked out (or, for a
   * serial key, while another attempt is still being checked: guesses cannot be pipelined).
   */
  admit(keys: readonly AttemptKey[]): AttemptTicket {
    const now = this.clock();
    let delayMs = 0;
    const buckets = keys.map(({ key }) => this.bucket(key, now));
    keys.forEach(({ factor, serial }, i) => {
      const bucket = buckets[i]!;
      if (bucket.lockedUntil > now) {
        const seconds = Math.ceil((bucket.lockedUntil - now) / 1000);
        throw new FleetError("rate_limited", `too many wrong codes; try again in ${seconds} s`, { retryInMs: bucket.lockedUntil - now });
      }
      if (serial && bucket.pending > 0) throw new FleetError("rate_limited", "another code is still being checked on this connection; send one at a time");
      if (bucket.failures + bucket.pending >= this.limit(factor)) {
        throw new FleetError("rate_limited", "too many codes are being checked from here at once; try again in a few seconds");
      }
      const beyondFree = bucket.failures + bucket.pending - this.policy.freeFailures * factor;
      if (beyondFree >= 0) delayMs = Math.max(delayMs, this.policy.slowdownMs * 2 ** Math.min(3, Math.floor(beyondFree / factor)));
    });
    keys.forEach(({ key }, i) => {
      buckets[i]!.pending++;
      this.buckets.set(key, buckets[i]!);
    });
    let settled = false;
    return {
      delayMs,
      settle: (success) => {
        if (settled) return;
        settled = true;
        const at = this.clock();
        keys.forEach(({ key, factor }, i) => {
          const bucket = this.buckets.get(key) ?? buckets[i]!;
          bucket.pending = Math.max(0, bucket.pending - 1);
          this.buckets.set(key, bucket);
          // A right code clears the connection's record; a source's record only fades with time.
          if (success && factor === 1) return this.buckets.delete(key);
          if (success) return;
          if (bucket.failures === 0) bucket.firstFailureAt = at;
          bucket.failures++;
          if (bucket.failures >= this.limit(factor) && bucket.lockedUntil <= at) {
            bucket.lockouts++;
            bucket.lockedUntil = at + Math.min(this.policy.lockoutMs, (this.policy.lockoutMs / 4) * 2 ** (bucket.lockouts - 1));
          }
        });
        this.prune(at);
      },
    };
  }

  /** Failures (with attempts in flight) that lock a key out. */
  private limit(factor: number): number {
    return (this.policy.freeFailures + this.policy.slowedFailures) * factor;
  }

  private bucket(key: string, now: number): Bucket {
    const bucket = this.buckets.get(key);
    const fresh = { failures: 0, pending: 0, firstFailureAt: now, lockedUntil: 0, lockouts: 0 };
    if (!bucket) return fresh;
    const lockServed = bucket.lockedUntil !== 0 && bucket.lockedUntil <= now;
    const forgotten = now - bucket.firstFailureAt > this.policy.failureWindowMs;
    // A served lockout starts a fresh count (keeping attempts in flight, and how many lockouts
    // there were, so the next one is longer); an old run of failures is forgotten altogether.
    if (forgotten && bucket.lockedUntil <= now) return { ...fresh, pending: bucket.pending };
    return lockServed ? { ...fresh, pending: bucket.pending, lockouts: bucket.lockouts } : bucket;
  }

  /** Keeps the map from growing without bound under a flood of distinct keys. */
  private prune(now: number): void {
    if (this.buckets.size < 10_000) return;
    for (const [key, bucket] of this.buckets) {
      if (bucket.pending === 0 && bucket.lockedUntil <= now && now - bucket.firstFailureAt > this.policy.failureWindowMs) this.buckets.delete(key);
    }
  }
}
