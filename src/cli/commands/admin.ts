// ocfleet admin users|google|desk|audit|jobs: what system_admins do. The daemon refuses everyone else.
import type { Command } from "commander";
import { api, type AdminUserView, type AuditEntry, type GoogleConfigView, type JobStatusView } from "../../protocol/api/index.js";
import { CliError, formatAge, formatDuration, formatTable, style } from "../output.js";
import { defineRead } from "../command.js";

function userKind(user: AdminUserView): string {
  return [user.isOwner ? "owner" : null, user.anonymous ? "anonymous" : user.identities.map((i) => i.provider).join("+")].filter(Boolean).join(", ");
}

function renderUsers(users: AdminUserView[]): string {
  if (users.length === 0) return style.dim("no users match");
  return formatTable([
    ["ID", "NAME", "LEVEL", "KIND", "EMAIL", "SESSIONS", "LAST SEEN"].map(style.dim),
    ...users.map((u) => [
      u.id,
      u.disabled ? `${u.name} ${style.red("(disabled)")}` : u.name,
      u.level,
      userKind(u),
      u.email ?? "",
      String(u.activeSessions),
      u.lastSeenAt ? formatAge(u.lastSeenAt) : "never",
    ]),
  ]);
}

function renderGoogle(config: GoogleConfigView): string {
  if (!config.configured) return "Google sign-in is not set up. Set it up with: ocfleet admin google set --client-id … --client-secret …";
  return [
    `Google sign-in: ${config.enabled ? style.green("enabled") : style.yellow("disabled")}`,
    `  client id:     ${config.clientId}`,
    `  client secret: ${config.clientSecretSet ? "set (never shown)" : style.dim("not set")}`,
    `  issuer:        ${config.issuer}`,
    `  authorization: ${config.endpoints.authorization}`,
    `  token:         ${config.endpoints.token}`,
    `  device:        ${config.endpoints.deviceAuthorization ?? style.dim("none (no --device sign-in)")}`,
    `  keys (JWKS):   ${config.endpoints.jwks}`,
    `  updated:       ${config.updatedAt ? `${formatAge(config.updatedAt)} by ${config.updatedBy ?? "(deleted user)"}` : ""}`,
  ].join("\n");
}

function renderAudit(entries: AuditEntry[]): string {
  if (entries.length === 0) return style.dim("the audit log is empty");
  return formatTable([
    ["WHEN", "WHO", "ACTION", "TARGET", "DETAILS"].map(style.dim),
    ...entries.map((e) => [new Date(e.at).toISOString(), e.actor, e.action, e.target ?? "", JSON.stringify(e.details)]),
  ]);
}

function renderJobs(jobs: JobStatusView[]): string {
  return formatTable([
    ["JOB", "EVERY", "LAST RUN", "REMOVED", "OUTCOME", "WHAT IT DELETES"].map(style.dim),
    ...jobs.map((j) => [
      j.job,
      j.everyMs < 1000 ? `${j.everyMs}ms` : formatDuration(j.everyMs),
      j.lastRun ? formatAge(j.lastRun.startedAt) : style.dim("not yet"),
      j.lastRun ? String(j.lastRun.removed) : "",
      j.lastRun ? (j.lastRun.error ? style.red(`failed: ${j.lastRun.error}`) : style.green("ok")) : "",
      j.description,
    ]),
  ]);
}

/** `--client-secret -` reads the secret from stdin, so it stays out of shell history and `ps`. */
async function readSecretArg(value: string | undefined): Promise<string | undefined> {
  if (value !== "-") return value;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const secret = Buffer.concat(chunks).toString("utf8").trim();
  if (!secret) throw new CliError("--client-secret -: nothing was read from stdin", 2);
  return secret;
}

export function registerAdminCommands(program: Command): void {
  const admin = program.command("admin").description("for admins: users and access levels, Google sign-in, service desk, audit log");

  const users = defineRead(admin.command("users").description("list users; `set-level` changes one's access level"), {
    run: (c) => c.call(api.admin.users, {}),
    human: (all) => renderUsers(all),
  });

  // `admin users` has a --json of its own, which commander gives the parent: the helper reads both.
  defineRead(
    users.command("set-level <user> <level>").description("make a user (id, name or email) a `user` or a `system_admin`; the last admin cannot be demoted"),
    {
      run: (c, [user, level]) => {
        if (level !== "user" && level !== "system_admin") throw new CliError(`<level> must be user or system_admin, not '${level}'`, 2);
        return c.call(api.admin.setUserLevel, { user: user!, level });
      },
      human: (updated) => `${updated.name} is now ${updated.level}`,
    },
  );

  defineRead<{ reason?: string }, AdminUserView>(
    users
      .command("disable <user>")
      .description("sign a user out everywhere and refuse every way of signing in; their schedules record skipped runs (audited)")
      .option("--reason <text>", "why, shown to them when they try to sign in"),
    {
      fields: { reason: "--reason" },
      run: (c, [user], options) => c.call(api.admin.disableUser, { user: user!, ...(options.reason ? { reason: options.reason } : {}) }),
      human: (updated) => `${updated.name} is disabled; their sessions are revoked (enable again with: ocfleet admin users enable ${updated.name})`,
    },
  );

  defineRead(users.command("enable <user>").description("let a disabled user sign in again (audited)"), {
    run: (c, [user]) => c.call(api.admin.enableUser, { user: user! }),
    human: (updated) => `${updated.name} may sign in again`,
  });

  const google = admin.command("google").description("Google sign-in: set up, show, enable, disable");

  defineRead(
    google
      .command("set")
      .description("set the OAuth client (Google's endpoints, or those of --issuer via its discovery document)")
      .requiredOption("--client-id <id>", "the OAuth client id")
      .option("--client-secret <secret>", "the client secret, or - to read it from stdin (kept encrypted, never shown)")
      .option("--issuer <url>", "an OpenID issuer other than Google (its /.well-known/openid-configuration is read)"),
    {
      run: async (c, _args, options: { clientId: string; clientSecret?: string; issuer?: string }) => {
        const clientSecret = await readSecretArg(options.clientSecret);
        const args: { clientId: string; clientSecret?: string; issuer?: string } = { clientId: options.clientId };
        if (clientSecret !== undefined) args.clientSecret = clientSecret;
        if (options.issuer !== undefined) args.issuer = options.issuer;
        return c.call(api.admin.googleSet, args);
      },
      human: (config) => renderGoogle(config),
    },
  );

  defineRead(google.command("show").description("show the Google sign-in configuration (never the client secret)"), {
    run: (c) => c.call(api.admin.googleShow, {}),
    human: (config) => renderGoogle(config),
  });

  for (const [name, ref, description] of [
    ["enable", api.admin.googleEnable, "let users sign in with Google"],
    ["disable", api.admin.googleDisable, "stop Google sign-in (linked accounts keep their other ways in)"],
  ] as const) {
    defineRead(google.command(name).description(description), {
      run: (c) => c.call(ref, {}),
      human: (config) => `Google sign-in is ${config.enabled ? "enabled" : "disabled"}`,
    });
  }

  const desk = admin.command("desk").description("service desk: find a user, give them a login code, sign them out everywhere");

  defineRead(desk.command("find <query>").description("find users by id, or by part of a name or email"), {
    run: (c, [query]) => c.call(api.serviceDesk.findUser, { query: query! }),
    human: (found) => renderUsers(found),
  });

  defineRead(desk.command("login-code <user>").description("issue a 10-minute single-use code the user signs in with (ocfleet login --code)"), {
    run: (c, [user]) => c.call(api.serviceDesk.issueLoginCode, { user: user! }),
    human: (grant) => [
      `${style.bold(grant.code)}  ${style.dim(`for ${grant.user.name}, valid until ${new Date(grant.expiresAt).toLocaleTimeString()}, once`)}`,
      style.dim(`They sign in with: ocfleet login --code ${grant.code}`),
    ],
  });

  defineRead(desk.command("revoke-sessions <user>").description("revoke every session of a user; their open clients are signed out at once"), {
    run: (c, [user]) => c.call(api.serviceDesk.revokeSessions, { user: user! }),
    human: (outcome) => `revoked ${outcome.revoked} session${outcome.revoked === 1 ? "" : "s"} of ${outcome.user.name}`,
  });

  defineRead(admin.command("jobs").description("the daemon's cleanup jobs: when each last ran and how many rows it removed"), {
    run: (c) => c.call(api.admin.jobs, {}),
    human: (jobs) => renderJobs(jobs),
  });

  defineRead(admin.command("audit").description("the audit log of admin actions, newest first").option("-n, --limit <count>", "how many entries", "50"), {
    run: (c, _args, options: { limit: string }) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new CliError(`--limit must be a whole number from 1 to 1000, not '${options.limit}'`, 2);
      return c.call(api.admin.audit, { limit });
    },
    human: (entries) => renderAudit(entries),
  });
}
