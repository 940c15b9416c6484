// Google sign-in without a browser on this machine (RFC 8628 device flow): show the URL and the
// code, then ask the daemon to poll at the pace the provider allows until it is approved,
// declined or expired. The daemon talks to Google and keeps the pace; this only waits and asks.
import { setTimeout as sleep } from "node:timers/promises";
import type { FleetConnection } from "../client/connection.js";
import { api, type SignInResult } from "../protocol/api/index.js";

export interface DeviceSignInOptions {
  say(line: string): void;
}

export async function signInWithDevice(connection: FleetConnection, options: DeviceSignInOptions): Promise<SignInResult> {
  const start = await connection.call(api.auth.googleDeviceStart, {});
  options.say(`To sign in, open ${start.verificationUrlComplete ?? start.verificationUrl} on any device and enter the code:\n\n  ${start.userCode}\n`);
  options.say(`Waiting for approval (the code is valid until ${new Date(start.expiresAt).toLocaleTimeString()})…`);
  let wait = start.retryInMs;
  let warnedSlow = false;
  for (;;) {
    await sleep(wait);
    const poll = await connection.call(api.auth.googleDevicePoll, { requestId: start.requestId });
    if (poll.status === "approved") return poll.signIn;
    if (poll.slowedDown && !warnedSlow) {
      warnedSlow = true;
      options.say(`Google asked to check less often; checking every ${Math.round(poll.retryInMs / 100) / 10} s.`);
    }
    wait = poll.retryInMs;
  }
}
