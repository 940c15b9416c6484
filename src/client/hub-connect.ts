// Connecting to a remote hub as a signed-in client: its pinned fingerprint and this client's
// credential for it (kept per hub URL, like the local daemon's), or an error that says how to sign in.
import { openCredentialStore } from "../auth/credentials.js";
import { FleetError } from "../protocol/errors.js";
import type { FleetConnection } from "./connection.js";
import { joinedHub, pinnedFingerprint } from "./hubs.js";
import { openRemoteConnection } from "./remote.js";

export interface HubConnectOptions {
  home: string;
  url: string;
  clientName?: string;
  onNotice?: (message: string) => void;
}

export async function connectToHub(options: HubConnectOptions): Promise<FleetConnection> {
  const { home, url } = options;
  const fingerprint = pinnedFingerprint(home, url);
  // On a machine that joined this hub, commands go there by default: say so, and how to reach this machine's own daemon.
  const byDefault = !process.env.OCFLEET_HUB && joinedHub(home)?.url === url;
  const signIn =
    `ocfleet login --hub ${url} --code ABCD-EFGH (a code from \`ocfleet auth code\` on a client signed in there)` +
    (byDefault ? "; this machine joined that hub, so ocfleet talks to it unless you say --hub local" : "");
  if (!fingerprint) throw new FleetError("unauthenticated", `this client has not signed in to ${url} yet; run: ${signIn}`);
  const store = await openCredentialStore(home, { onNotice: options.onNotice });
  const stored = await store.get(url);
  if (!stored) throw new FleetError("unauthenticated", `not signed in to ${url}; run: ${signIn}`);
  const connection = await openRemoteConnection({ url, fingerprint, session: stored.token, clientName: options.clientName });
  const { caller } = connection.welcome;
  if (!caller.user) {
    connection.close();
    const why = caller.sessionProblem === "unknown" ? "is not known to the hub" : `was ${caller.sessionProblem ?? "refused"}`;
    throw new FleetError("unauthenticated", `your session for ${url} ${why}; sign in again: ${signIn}`);
  }
  return connection;
}
