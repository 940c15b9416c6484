// ocfleet hub enable|status|disable: this daemon's network listener, which other machines join
// and remote clients use. TLS always; the certificate is generated unless one is given.
import type { Command } from "../commander.js";
import { api, type HubStatusView } from "../../protocol/api/index.js";
import { defineRead } from "../command.js";
import { style } from "../output.js";

function renderHubStatus(status: HubStatusView): string[] {
  if (!status.enabled) return [`${style.dim("○")} the hub is off ${style.dim("(ocfleet hub enable)")}`];
  const lines = [`${status.listening ? style.green("●") : style.red("●")} hub ${status.listening ? "listening" : "not listening"}`];
  if (status.error) lines.push(`  error:        ${status.error}`);
  lines.push(
    `  listen:       ${status.listen ?? "-"}`,
    `  url:          ${status.url ?? "-"}`,
    `  fingerprint:  ${status.fingerprint ?? "-"}`,
    `  certificate:  ${status.certificate ?? "-"}`,
    `  machines:     ${status.linkedMachines} linked now`,
  );
  return lines;
}

interface EnableOptions {
  listen?: string;
  publicUrl?: string;
  tlsCert?: string;
  tlsKey?: string;
}

export function registerHubCommands(program: Command): void {
  const hub = program.command("hub").description("open this daemon to other machines and remote clients (TLS)");

  defineRead<EnableOptions, HubStatusView>(
    hub
      .command("enable")
      .description("start the network listener (it comes back after restarts)")
      .option("--listen <host:port>", "address to listen on (default 0.0.0.0:7433)")
      .option("--public-url <url>", "wss://host:port as other machines reach this one")
      .option("--tls-cert <file>", "a PEM certificate to use instead of a generated one")
      .option("--tls-key <file>", "its PEM private key"),
    {
      run: (c, _args, o) =>
        c.call(api.hub.enable, {
          ...(o.listen !== undefined ? { listen: o.listen } : {}),
          ...(o.publicUrl !== undefined ? { publicUrl: o.publicUrl } : {}),
          ...(o.tlsCert !== undefined ? { tlsCert: o.tlsCert } : {}),
          ...(o.tlsKey !== undefined ? { tlsKey: o.tlsKey } : {}),
        }),
      human: (status) => [
        ...renderHubStatus(status),
        style.dim("next: ocfleet machine invite   (on this machine), then ocfleet machine join <token>   (on the other)"),
      ],
      fields: { listen: "--listen", publicUrl: "--public-url", tlsCert: "--tls-cert", tlsKey: "--tls-key" },
    },
  );

  defineRead(hub.command("status").description("whether the hub listens, where, and its certificate's fingerprint"), {
    run: (c) => c.call(api.hub.status, {}),
    human: (status) => renderHubStatus(status),
  });

  defineRead(hub.command("disable").description("stop the network listener; linked machines are disconnected"), {
    run: (c) => c.call(api.hub.disable, {}),
    human: () => "the hub is off; machines and remote clients can no longer connect",
  });
}
