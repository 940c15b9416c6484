// ocfleet machine invite|approve|revoke|rename|remove (on the hub) and join|status|leave (on the
// machine that joins): how computers enter and leave the fleet.
import type { Command } from "../commander.js";
import type { FleetConnection } from "../../client/connection.js";
import { api, type MachineRemoved, type MembershipView } from "../../protocol/api/index.js";
import { sanitizeInline } from "../../terminal/sanitize.js";
import { defineRead } from "../command.js";
import { CliError, style } from "../output.js";
import { startProgress } from "../progress.js";

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
            queueMicrotask(() => subscription.unsubscribe());
            progress.stop();
            settle();
          };
          if (view.state === "approved") return done(() => resolve(view));
          if (view.state === "revoked" || view.state === "refused") {
            return done(() => reject(new CliError(`the hub refused this machine: ${sanitizeInline(view.reason ?? "no reason given")}`)));
          }
          const line =
            view.state === "joining"
              ? `joining ${sanitizeInline(view.hubUrl)}…${view.lastError ? ` (${sanitizeInline(view.lastError)}; retrying)` : ""}`
              : `waiting for approval: on the hub, run ocfleet machine approve ${sanitizeInline(view.name ?? view.machineId ?? "")}`;
          if (line === said) return;
          said = line;
          if (!process.stderr.isTTY && !json) process.stderr.write(`${line}\n`);
          progress.update(line);
        },
        onError: (err) => {
          progress.stop();
          reject(err);
        },
      },
    );
  });
}

function renderMembership(view: MembershipView | null): string[] {
  if (!view) return ["this machine has not joined a hub (ocfleet machine join <token>)"];
  return [
    `hub:         ${view.hubUrl}`,
    `as:          ${view.name ?? "-"} ${style.dim(view.machineId ?? "")}`,
    `state:       ${view.state}${view.reason ? ` (${view.reason})` : ""}`,
    `link:        ${view.connected ? style.green("connected") : style.dim("not connected")}${view.lastError ? ` ${style.dim(view.lastError)}` : ""}`,
    `fingerprint: ${view.fingerprint}`,
  ];
}

export function registerMachineLinkCommands(machine: Command): void {
  defineRead<{ name?: string; ttl?: string; approve?: boolean }, { id: string; token: string; expiresAt: number; preApproved: boolean }>(
    machine
      .command("invite")
      .description("print a one-line token that lets one machine join this hub")
      .option("--name <name>", "the name the machine gets")
      .option("--ttl <duration>", "how long the invite stays valid (default 1h)")
      .option("--approve", "approve the machine as it joins"),
    {
      check: (_args, o) => void (o.ttl !== undefined && parseTtl(o.ttl)),
      run: (c, _args, o) =>
        c.call(api.hub.invite, {
          ...(o.name !== undefined ? { name: o.name } : {}),
          ...(o.ttl !== undefined ? { ttlMs: parseTtl(o.ttl) } : {}),
          ...(o.approve ? { approve: true } : {}),
        }),
      human: (invite) => {
        process.stderr.write(
          `${style.dim(`single use, valid until ${new Date(invite.expiresAt).toLocaleString()}${invite.preApproved ? ", pre-approved" : ""}; on the other machine: ocfleet machine join <token>`)}\n`,
        );
        return invite.token;
      },
      fields: { name: "--name", ttlMs: "--ttl" },
    },
  );

  defineRead(machine.command("approve <machine>").description("let a machine that joined into the fleet"), {
    run: (c, [ref]) => c.call(api.hub.approve, { machine: ref! }),
    human: (result) => `approved ${result.name}`,
  });

  defineRead<{ force?: boolean }, MachineRemoved>(
    machine
      .command("remove <machine>")
      .description('delete a machine and its workers; their chats are kept (readable, marked "machine <machine> removed")')
      .option("--force", "also while it is online (its link is cut) and with schedules on its workers (they are removed)"),
    {
      run: (c, [ref], o) => c.call(api.hub.remove, { machine: ref!, ...(o.force ? { force: true } : {}) }),
      human: (result) => {
        const workers = result.workersRemoved;
        const lines = [
          `removed ${result.name}${workers.length > 0 ? ` and its ${workers.length} worker${workers.length === 1 ? "" : "s"}: ${workers.join(", ")}` : ""}`,
        ];
        if (result.chatsKept > 0) lines.push(style.dim(`${result.chatsKept} chat(s) kept, readable, marked "machine ${result.name} removed"`));
        if (result.schedulesRemoved > 0) lines.push(style.dim(`${result.schedulesRemoved} schedule(s) removed`));
        return lines;
      },
    },
  );

  defineRead<{ reason?: string }, { id: string; name: string }>(
    machine
      .command("revoke <machine>")
      .description("cut a machine's link at once and refuse its credential from now on")
      .option("--reason <text>", "told to the machine"),
    {
      run: (c, [ref], o) => c.call(api.hub.revoke, { machine: ref!, ...(o.reason ? { reason: o.reason } : {}) }),
      human: (result) => `revoked ${result.name}; it must join again with a new invite`,
    },
  );

  defineRead(machine.command("rename <machine> <name>").description("give a machine another name"), {
    run: (c, [ref, name]) => c.call(api.hub.rename, { machine: ref!, name: name! }),
    human: (result) => `renamed to ${result.name}`,
    fields: { name: "<name>" },
  });

  defineRead<{ name?: string; wait: boolean }, MembershipView>(
    machine
      .command("join <token>")
      .description("make this machine part of the hub's fleet (its daemon dials out and stays linked)")
      .option("--name <name>", "the name to ask for (the invite's name wins)")
      .option("--no-wait", "return at once instead of waiting for approval"),
    {
      run: async (c, [token], o) => {
        const view = await c.call(api.membership.join, { token: token!, ...(o.name ? { name: o.name } : {}) });
        return o.wait ? waitForApproval(c, o.json === true) : view;
      },
      human: (view) =>
        view.state === "approved"
          ? `this machine is part of the fleet at ${view.hubUrl} as ${view.name ?? ""}`
          : `joining ${view.hubUrl}; the daemon carries on by itself (ocfleet machine status)`,
      fields: { token: "<token>", name: "--name" },
      thisMachine: true,
    },
  );

  defineRead(machine.command("status").description("this machine's membership of a hub"), {
    run: (c) => c.call(api.membership.status, {}),
    human: (view) => renderMembership(view),
    thisMachine: true,
  });

  defineRead(machine.command("leave").description("leave the hub: stop the link and the workers it ran, forget the credential"), {
    run: (c) => c.call(api.membership.leave, {}),
    human: (result) =>
      result.left ? "left the hub; this machine's workers and ocfleet commands answer to its own daemon again" : "this machine had not joined a hub",
    thisMachine: true,
  });
}
