// ocfleet hub enable|status|disable: this daemon's network listener, which other machines join
// and remote clients use. TLS always; the certificate is generated unless one is given.
import type { Command } from "../commander.js";
import { api, type HubStatusView } from "../../protocol/api/index.js";
import { sanitizeInline } from "../../terminal/sanitize.js";
import { print, printJson, style } from "../output.js";
import { withDaemon } from "../session.js";

function printHubStatus(status: HubStatusView): void {
  if (!status.enabled) {
    print(`${style.dim("○")} the hub is off ${style.dim("(ocfleet hub enable)")}`);
    return;
  }
  const mark = status.listening ? style.green("●") : style.red("●");
  print(`${mark} hub ${status.listening ? "listening" : "not listening"}`);
  if (status.error) print(`  error:        ${sanitizeInline(status.error)}`);
  print(`  listen:       ${status.listen ?? "-"}`);
  print(`  url:          ${status.url ?? "-"}`);
  print(`  fingerprint:  ${status.fingerprint ?? "-"}`);
  print(`  certificate:  ${status.certificate === null ? "-" : sanitizeInline(status.certificate)}`);
  print(`  machines:     ${status.linkedMachines} linked now`);
}

export function registerHubCommands(program: Command): void {
  const hub = program.command("hub").description("open this daemon to other machines and remote clients (TLS)");

  hub
    .command("enable")
    .description("start the network listener (it comes back after restarts)")
    .option("--listen <host:port>", "address to listen on (default 0.0.0.0:7433)")
    .option("--public-url <url>", "wss://host:port as other machines reach this one")
    .option("--tls-cert <file>", "a PEM certificate to use instead of a generated one")
    .option("--tls-key <file>", "its PEM private key")
    .option("--json", "print JSON")
    .action((options: { listen?: string; publicUrl?: string; tlsCert?: string; tlsKey?: string; json?: boolean }) =>
      withDaemon(options, async (connection) => {
        const status = await connection.call(api.hub.enable, {
          ...(options.listen !== undefined ? { listen: options.listen } : {}),
          ...(options.publicUrl !== undefined ? { publicUrl: options.publicUrl } : {}),
          ...(options.tlsCert !== undefined ? { tlsCert: options.tlsCert } : {}),
          ...(options.tlsKey !== undefined ? { tlsKey: options.tlsKey } : {}),
        });
        if (options.json) return printJson(status);
        printHubStatus(status);
        print(style.dim("next: ocfleet machine invite   (on this machine), then ocfleet machine join <token>   (on the other)"));
      }),
    );

  hub
    .command("status")
    .description("whether the hub listens, where, and its certificate's fingerprint")
    .option("--json", "print JSON")
    .action((options: { json?: boolean }) =>
      withDaemon(options, async (connection) => {
        const status = await connection.call(api.hub.status, {});
        if (options.json) printJson(status);
        else printHubStatus(status);
      }),
    );

  hub
    .command("disable")
    .description("stop the network listener; linked machines are disconnected")
    .option("--json", "print JSON")
    .action((options: { json?: boolean }) =>
      withDaemon(options, async (connection) => {
        const status = await connection.call(api.hub.disable, {});
        if (options.json) printJson(status);
        else print("the hub is off; machines and remote clients can no longer connect");
      }),
    );
}
