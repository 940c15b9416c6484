// ocfleet machine invite|approve|revoke|rename|remove (on the hub) and join|leave (on the machine
// that joins): how computers enter and leave the fleet.
import type { Command } from "../commander.js";
import type { FleetConnection } from "../../client/connection.js";
import { api, type MembershipView } from "../../protocol/api/index.js";
import { sanitizeInline } from "../../terminal/sanitize.js";
import { CliError, print, printJson, style } from "../output.js";
import { startProgress } from "../progress.js";
import { withDaemon } from "../session.js";

/** "90s", "30m", "1h", "2d" → ms. */
export function parseTtl(text: string): number {
  const match = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (!match) throw new CliError("--ttl must be a number and a unit: 90s, 30m, 1h or 2d", 2);
  return Number(match[1]) * { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 }[match[2] as "s" | "m" | "h" | "d"];
}

/** Waits, with progress, until the hub approves this machine (or refuses it). */
function waitForApproval(connection: FleetConnection, json: boolean): Promise<MembershipView> {
  const progress = startProgress(!json);
  return new Promise((resolve, reject) => {
    let said = "";
    const subscription = connection.subscribe(
      api.membership.status,
      {},
      {
        onValue: (view) => {
          if (!view) return;
          const done = (settle: () => void) => {
            subscription.unsubscribe();
            progress.stop();
            settle();
          };
          if (view.state === "approved") return done(() => resolve(view));
          if (view.state === "revoked" || view.state === "refused") {
            return done(() => reject(new CliError(`the hub refused this machine: ${sanitizeInline(view.reason ?? "no reason given")}`)));
          }
          const line =
            view.state === "joining"
              ? `joining ${view.hubUrl}…${view.lastError ? ` (${sanitizeInline(view.lastError)}; retrying)` : ""}`
              : `waiting for approval: on the hub, run ocfleet machine approve ${sanitizeInline(view.name ?? view.machineId ?? "")}`;
          if (line !== said) {
            said = line;
            if (!process.stderr.isTTY && !json) process.stderr.write(`${line}\n`);
            progress.update(line);
          }
        },
        onError: (err) => {
          progress.stop();
          reject(err);
        },
      },
    );
  });
}

export function registerMachineLinkCommands(machine: Command): void {
  machine
    .command("invite")
    .description("print a one-line token that lets one machine join this hub")
    .option("--name <name>", "the name the machine gets")
    .option("--ttl <duration>", "how long the invite stays valid (default 1h)")
    .option("--approve", "approve the machine as it joins")
    .option("--json", "print JSON")
    .action((options: { name?: string; ttl?: string; approve?: boolean; json?: boolean }) =>
      withDaemon(options, async (connection) => {
        const invite = await connection.call(api.hub.invite, {
          ...(options.name !== undefined ? { name: options.name } : {}),
          ...(options.ttl !== undefined ? { ttlMs: parseTtl(options.ttl) } : {}),
          ...(options.approve ? { approve: true } : {}),
        });
        if (options.json) return printJson(invite);
        print(invite.token);
        process.stderr.write(
          `${style.dim(`single use, valid until ${new Date(invite.expiresAt).toLocaleString()}${invite.preApproved ? ", pre-approved" : ""}; on the other machine: ocfleet machine join <token>`)}\n`,
        );
      }),
    );

  for (const [verb, description] of [
    ["approve", "let a machine that joined into the fleet"],
    ["remove", "delete a machine that has no workers left"],
  ] as const) {
    machine
      .command(`${verb} <machine>`)
      .description(description)
      .option("--json", "print JSON")
      .action((ref: string, options: { json?: boolean }) =>
        withDaemon(options, async (connection) => {
          const result = await connection.call(api.hub[verb], { machine: ref });
          if (options.json) return printJson(result);
          print(`${verb === "approve" ? "approved" : "removed"} ${sanitizeInline(result.name)}`);
        }),
      );
  }

  machine
    .command("revoke <machine>")
    .description("cut a machine's link at once and refuse its credential from now on")
    .option("--reason <text>", "told to the machine")
    .option("--json", "print JSON")
    .action((ref: string, options: { reason?: string; json?: boolean }) =>
      withDaemon(options, async (connection) => {
        const result = await connection.call(api.hub.revoke, { machine: ref, ...(options.reason ? { reason: options.reason } : {}) });
        if (options.json) return printJson(result);
        print(`revoked ${sanitizeInline(result.name)}; it must join again with a new invite`);
      }),
    );

  machine
    .command("rename <machine> <name>")
    .description("give a machine another name")
    .option("--json", "print JSON")
    .action((ref: string, name: string, options: { json?: boolean }) =>
      withDaemon(options, async (connection) => {
        const result = await connection.call(api.hub.rename, { machine: ref, name });
        if (options.json) return printJson(result);
        print(`renamed to ${sanitizeInline(result.name)}`);
      }),
    );

  machine
    .command("join <token>")
    .description("make this machine part of the hub's fleet (its daemon dials out and stays linked)")
    .option("--name <name>", "the name to ask for (the invite's name wins)")
    .option("--no-wait", "return at once instead of waiting for approval")
    .option("--json", "print JSON")
    .action((token: string, options: { name?: string; wait: boolean; json?: boolean }) =>
      withDaemon(options, async (connection) => {
        let view = await connection.call(api.membership.join, { token, ...(options.name ? { name: options.name } : {}) });
        if (options.wait) view = await waitForApproval(connection, options.json === true);
        if (options.json) return printJson(view);
        print(
          view.state === "approved"
            ? `this machine is part of the fleet at ${sanitizeInline(view.hubUrl)} as ${sanitizeInline(view.name ?? "")}`
            : `joining ${sanitizeInline(view.hubUrl)}; the daemon carries on by itself (ocfleet machine status)`,
        );
      }),
    );

  machine
    .command("status")
    .description("this machine's membership of a hub")
    .option("--json", "print JSON")
    .action((options: { json?: boolean }) =>
      withDaemon(options, async (connection) => {
        const view = await connection.call(api.membership.status, {});
        if (options.json) return printJson(view);
        if (!view) return print("this machine has not joined a hub (ocfleet machine join <token>)");
        print(`hub:         ${sanitizeInline(view.hubUrl)}`);
        print(`as:          ${sanitizeInline(view.name ?? "-")} ${style.dim(view.machineId ?? "")}`);
        print(`state:       ${view.state}${view.reason ? ` (${sanitizeInline(view.reason)})` : ""}`);
        print(
          `link:        ${view.connected ? style.green("connected") : style.dim("not connected")}${view.lastError ? ` ${style.dim(sanitizeInline(view.lastError))}` : ""}`,
        );
        print(`fingerprint: ${view.fingerprint}`);
      }),
    );

  machine
    .command("leave")
    .description("leave the hub: stop the link and the workers it ran, forget the credential")
    .option("--json", "print JSON")
    .action((options: { json?: boolean }) =>
      withDaemon(options, async (connection) => {
        const result = await connection.call(api.membership.leave, {});
        if (options.json) return printJson(result);
        print(result.left ? "left the hub; this machine's workers answer to its own daemon again" : "this machine had not joined a hub");
      }),
    );
}
