// Signing in to a remote hub (`ocfleet login --hub URL --code …`): its certificate is pinned on
// first use, after the user confirms the fingerprint it presents (or as given by --fingerprint, for
// scripts), like SSH's known hosts; the session is kept per hub URL.
import { openCredentialStore } from "../../auth/credentials.js";
import type { FleetConnection } from "../../client/connection.js";
import { pinFingerprint, pinnedFingerprint } from "../../client/hubs.js";
import { openRemoteConnection } from "../../client/remote.js";
import { normalizeFingerprint } from "../../platform/tls-pin.js";
import type { SignInResult } from "../../protocol/api/index.js";
import { CliError } from "../output.js";
import { notice, stateDir } from "../session.js";

async function readAnswer(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  return Buffer.concat(chunks).toString("utf8").split("\n")[0]!.trim().toLowerCase();
}

/** Opens a connection to the hub for signing in, pinning its certificate if this is the first time. */
export async function openHubForLogin(url: string, given: string | undefined): Promise<{ connection: FleetConnection; fingerprint: string }> {
  const home = stateDir();
  let expected: string | null;
  try {
    expected = given !== undefined ? normalizeFingerprint(given) : pinnedFingerprint(home, url);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  if (expected) return { connection: await openRemoteConnection({ url, fingerprint: expected, clientName: "ocfleet-cli" }), fingerprint: expected };
  // First contact and no fingerprint given: see what the hub presents, and ask before sending anything.
  let presented = "";
  const probe = await openRemoteConnection({ url, fingerprint: null, clientName: "ocfleet-cli", onCertificate: (f) => (presented = f) });
  probe.close();
  const answer = await readAnswer(
    `The hub at ${url} presents the certificate\n  ${presented}\nCompare it with \`ocfleet hub status\` on the hub. Trust it? [y/N] `,
  );
  if (answer !== "y" && answer !== "yes") {
    throw new CliError(`not trusted; to sign in without a prompt, pass --fingerprint ${presented} once you have checked it`);
  }
  return { connection: await openRemoteConnection({ url, fingerprint: presented, clientName: "ocfleet-cli" }), fingerprint: presented };
}

/** Keeps the hub's pin and the new session under the hub's URL. */
export async function rememberHubSignIn(url: string, fingerprint: string, result: SignInResult): Promise<void> {
  const home = stateDir();
  pinFingerprint(home, url, fingerprint);
  const store = await openCredentialStore(home, { onNotice: notice });
  await store.set(url, { sessionId: result.session.id, token: result.session.token, userName: result.user.name, savedAt: Date.now() });
}
