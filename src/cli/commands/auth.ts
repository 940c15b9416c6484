// ocfleet login|logout|whoami and ocfleet auth code|recovery-code|sessions|revoke: signing in and
// out, and the signed-in user's codes and sessions. The browser and device flows are loaded only
// when used (they pull in node:http), so other commands start no slower.
import type { Command } from "commander";
import { localHubKey, openCredentialStore, rememberSignIn } from "../../auth/credentials.js";
import type { FleetConnection } from "../../client/connection.js";
import { api, type SessionView, type SignInResult, type WhoAmI } from "../../protocol/api/index.js";
import { isFleetError } from "../../protocol/errors.js";
import { CliError, formatAge, formatDuration, formatTable, style } from "../output.js";
import { notice, openDaemonConnection, stateDir, type CommandOptions } from "../session.js";
import { defineOutput, defineRead } from "../command.js";
import { sanitize } from "../../terminal/sanitize.js";
import { selectedHub } from "../../client/hubs.js";

interface LoginOptions extends CommandOptions {
  anonymous?: boolean;
  google?: boolean;
  device?: boolean;
  code?: string | true;
  recovery?: string | true;
  fingerprint?: string;
}

/** Reads one line from stdin (a prompt on a terminal), for codes that should not sit in shell history. */
async function readSecretLine(prompt: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(prompt);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  const line = Buffer.concat(chunks).toString("utf8").split("\n")[0]!.trim();
  if (!line) throw new CliError("no code given", 2);
  return line;
}

async function saveCredential(result: SignInResult): Promise<void> {
  await rememberSignIn(stateDir(), result, { onNotice: notice });
}

/** What login prints as JSON: everything but the bearer token, which only the credential store keeps. */
function publicSignIn(result: SignInResult) {
  const { token: _token, ...session } = result.session;
  return { ...result, session };
}

function describeLevel(user: SignInResult["user"]): string {
  return [user.level, user.isOwner ? "owner" : null, user.anonymous ? "anonymous" : null].filter(Boolean).join(", ");
}

async function runLogin(connection: FleetConnection, options: LoginOptions): Promise<SignInResult> {
  // The flows quote what the identity provider sent (its URLs and codes): never raw to a terminal.
  const say = (line: string) => process.stderr.write(`${sanitize(line)}\n`);
  if (options.anonymous) return connection.call(api.auth.loginAnonymous, {});
  if (options.code !== undefined) {
    const code = options.code === true ? await readSecretLine("login code: ") : options.code;
    return connection.call(api.auth.loginWithCode, { code });
  }
  if (options.recovery !== undefined) {
    const code = options.recovery === true ? await readSecretLine("recovery code: ") : options.recovery;
    return connection.call(api.auth.loginWithRecoveryCode, { code });
  }
  if (options.device) {
    const { signInWithDevice } = await import("../../auth/device.js");
    return signInWithDevice(connection, { say });
  }
  const { signInWithBrowser } = await import("../../auth/loopback.js");
  return signInWithBrowser(connection, { say });
}

function describeSignIn(result: SignInResult): string[] {
  const verb = { created: "created and signed in as", signed_in: "signed in as", linked: "linked Google to", upgraded: "upgraded your anonymous account, now" }[
    result.outcome
  ];
  const lines = [`${verb} ${style.bold(result.user.name)} (${describeLevel(result.user)})`];
  if (result.recoveryCode) {
    lines.push("", `Your recovery code, shown only this once: ${style.bold(result.recoveryCode)}`);
    lines.push(style.dim("Keep it somewhere safe. It signs you back in on any client: ocfleet login --recovery"));
  }
  return lines;
}

function renderWhoAmI(me: WhoAmI): string {
  const lines = [`${style.bold(me.user.name)} (${describeLevel(me.user)})`, `  id:            ${me.user.id}`];
  if (me.user.email) lines.push(`  email:         ${me.user.email}`);
  if (me.identities.length === 0) {
    lines.push(`  linked:        ${style.dim("nothing: keep a recovery code, or link Google with: ocfleet login --google")}`);
  }
  for (const identity of me.identities) {
    lines.push(
      `  linked:        ${identity.provider} ${identity.email ?? ""}${identity.emailVerified ? "" : style.dim(" (email not verified)")}, since ${new Date(identity.linkedAt).toLocaleDateString()}`,
    );
  }
  const left = Math.max(0, me.session.expiresAt - Date.now());
  lines.push(`  session:       ${me.session.id} (${me.session.kind}), expires in ${formatDuration(left)} unless used`);
  lines.push(`  recovery code: ${me.hasRecoveryCode ? "set" : style.dim("none (ocfleet auth recovery-code --regenerate)")}`);
  return lines.join("\n");
}

function renderSessions(sessions: SessionView[]): string {
  return formatTable([
    ["", "SESSION", "KIND", "CLIENT", "CREATED", "LAST USED", "EXPIRES IN"].map(style.dim),
    ...sessions.map((s) => [
      s.current ? "*" : "",
      s.id,
      s.kind,
      s.clientName,
      formatAge(s.createdAt),
      formatAge(s.lastUsedAt),
      formatDuration(Math.max(0, s.expiresAt - Date.now())),
    ]),
  ]);
}

export function registerAuthCommands(program: Command): void {
  defineRead(program.command("whoami").description("show who you are signed in as: user, access level, linked identities, session expiry"), {
    run: (c) => c.call(api.auth.whoami, {}),
    human: (me) => renderWhoAmI(me),
  });

  defineOutput(
    program
      .command("login")
      .description("sign in: anonymously, with Google, or with a login or recovery code")
      .option("--anonymous", "create a new anonymous account (shows its recovery code once)")
      .option("--google", "sign in with Google in a browser (links Google to the account you are signed in as)")
      .option("--device", "with --google: sign in on another device (for SSH sessions and machines without a browser)")
      .option("--code [code]", "sign in with a code from `ocfleet auth code` or an admin (read from stdin if not given)")
      .option("--recovery [code]", "sign in with your recovery code (read from stdin if not given)")
      .option("--hub <url>", "sign in to a remote hub (wss://host:port) instead of this machine's daemon")
      .option("--fingerprint <sha256>", "with --hub: the hub's certificate fingerprint (from `ocfleet hub status`), instead of confirming it"),
    {
      run: async (_args, options: LoginOptions) => {
        // Checked before connecting: a wrong combination should not start a daemon.
        const chosen = [options.anonymous, options.google, options.code !== undefined, options.recovery !== undefined].filter(Boolean).length;
        if (chosen !== 1) throw new CliError("choose one way to sign in: --anonymous, --google [--device], --code or --recovery", 2);
        if (options.device && !options.google) throw new CliError("--device goes with --google", 2);
        // --hub URL: a remote hub, pinned on first use (cli/commands/hub-login.ts); otherwise this machine's daemon.
        const hub = selectedHub();
        const remote = hub ? await (await import("./hub-login.js")).openHubForLogin(hub, options.fingerprint) : null;
        const connection = remote?.connection ?? (await openDaemonConnection(options));
        try {
          const result = await runLogin(connection, options);
          if (hub && remote) await (await import("./hub-login.js")).rememberHubSignIn(hub, remote.fingerprint, result);
          else await saveCredential(result);
          return result;
        } finally {
          connection.close();
        }
      },
      json: publicSignIn,
      human: describeSignIn,
    },
  );

  defineOutput(
    program
      .command("logout")
      .description("sign out here (or everywhere with --all); on this machine the next command signs in as its owner")
      .option("--all", "revoke every session of your account, on every client"),
    {
      run: async (_args, options: { all?: boolean } & CommandOptions) => {
        const home = stateDir();
        const store = await openCredentialStore(home, { onNotice: notice });
        // A hub (chosen, or the one this machine joined) keeps its session under its URL; this machine's daemon under local:<home>.
        const hub = selectedHub();
        const connection = await openDaemonConnection(options, "stored").catch((err: unknown) => {
          if (hub && isFleetError(err, "unauthenticated")) return null; // no session there that still works
          throw err;
        });
        let revoked = 0;
        let who: string | null = null;
        try {
          const user = connection?.welcome.caller.user;
          if (connection && user) {
            who = user.name;
            revoked = (await connection.call(api.auth.logout, { all: options.all === true })).revoked;
          }
        } finally {
          connection?.close();
        }
        const removed = await store.delete(hub ?? localHubKey(home));
        return { signedOut: who, revoked, credentialRemoved: removed };
      },
      human: ({ signedOut: who, revoked, credentialRemoved: removed }, _args, options) => {
        if (!who) return removed ? "your saved session no longer worked; removed it" : "you were not signed in";
        return [
          `signed out ${who}${options.all ? ` everywhere (${revoked} session${revoked === 1 ? "" : "s"} revoked)` : ""}`,
          style.dim(
            selectedHub()
              ? "Sign in to the hub again with: ocfleet login --code ABCD-EFGH (a code from `ocfleet auth code` on a client signed in there)."
              : "The next ocfleet command on this machine signs you in again as the machine's owner.",
          ),
        ];
      },
    },
  );

  const auth = program.command("auth").description("your login codes, recovery code and sessions");

  defineRead(auth.command("code").description("print a code (valid 60 s, usable once) to sign in as you on another client: ocfleet login --code"), {
    run: (c) => c.call(api.auth.createLoginCode, {}),
    human: (grant) => [
      `${style.bold(grant.code)}  ${style.dim(`valid for ${Math.round((grant.expiresAt - Date.now()) / 1000)} s, once`)}`,
      style.dim(`On the other client: ocfleet login --code ${grant.code}`),
    ],
  });

  defineRead(
    auth
      .command("recovery-code")
      .description("say whether you have a recovery code; --regenerate issues a new one and voids the old")
      .option("--regenerate", "issue a new recovery code (shown once); the old one stops working"),
    {
      run: async (c, _args, options: { regenerate?: boolean }) =>
        options.regenerate ? c.call(api.auth.regenerateRecoveryCode, {}) : { hasRecoveryCode: (await c.call(api.auth.whoami, {})).hasRecoveryCode },
      human: (result) =>
        "recoveryCode" in result
          ? [
              `Your new recovery code, shown only this once: ${style.bold(result.recoveryCode)}`,
              style.dim("The old one no longer works. Sign in with it on any client: ocfleet login --recovery"),
            ]
          : result.hasRecoveryCode
            ? "you have a recovery code (it is shown only when issued); replace it with: ocfleet auth recovery-code --regenerate"
            : "you have no recovery code; issue one with: ocfleet auth recovery-code --regenerate",
    },
  );

  defineRead(auth.command("sessions").description("list your sessions that are still valid (* marks this one)"), {
    run: (c) => c.call(api.auth.sessions, {}),
    human: (sessions) => renderSessions(sessions),
  });

  defineRead(auth.command("revoke <session>").description("revoke one of your sessions (ses_…); clients using it are signed out at once"), {
    run: async (c, [session]) => {
      const outcome = await c.call(api.auth.revokeSession, { sessionId: session as never }).catch((err: unknown) => {
        if (isFleetError(err, "invalid_argument")) throw new CliError(`<session> must be a session id (ses_…), not '${session}'`, 2);
        throw err;
      });
      if (outcome.current) {
        const home = stateDir();
        await (await openCredentialStore(home, { onNotice: notice })).delete(localHubKey(home));
      }
      return { sessionId: session, ...outcome };
    },
    human: (outcome) => `revoked ${outcome.sessionId}${outcome.current ? " (this client's own session: the next command signs in again)" : ""}`,
  });
}
