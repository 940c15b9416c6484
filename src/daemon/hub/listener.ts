// The hub's network listener: a second FleetServer on the same daemon, TLS always, that accepts
// sessions and machine links but never the daemon token. Its settings live in the database, so it
// comes back after a restart.
import { hostname } from "node:os";
import type { HubEnableArgs, HubStatusView } from "../../protocol/api/hub.js";
import { FleetError } from "../../protocol/errors.js";
import type { ConnectionOptions } from "../connection.js";
import type { Logger } from "../log.js";
import type { InternalRunner } from "../model/context.js";
import { readHubSettings, saveHubSettings, setHubEnabled, type HubSettingsRow } from "../model/hub.js";
import { FleetServer } from "../server.js";
import { loadHubCertificate } from "./certificate.js";
import type { HubControl } from "./control.js";
import type { MachineLinks } from "./machine-links.js";

export const DEFAULT_HUB_PORT = 7433;

export interface HubListenerOptions {
  home: string;
  log: Logger;
  run: InternalRunner;
  links: MachineLinks;
}

/** The client-facing parts of a connection (dispatcher, sessions) that the loopback server has too. */
export type SharedConnectionOptions = Omit<ConnectionOptions, "network" | "token">;

const WILDCARD = new Set(["0.0.0.0", "::", ""]);

/** "host:port", "[v6]:port", ":port" or "port". */
export function parseListen(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*))?:?(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new FleetError("invalid_argument", `'${text}' is not host:port (e.g. 0.0.0.0:${DEFAULT_HUB_PORT})`, { field: "listen" });
  return { host: match[1] ?? (match[2] || "0.0.0.0"), port };
}

function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

export class HubListener implements Omit<HubControl, "approved" | "revoked" | "removed" | "isLinked"> {
  private server: FleetServer | null = null;
  private current: { url: string; fingerprint: string; certificate: string; listen: string } | null = null;
  private error: string | null = null;
  private connections: SharedConnectionOptions | null = null;

  constructor(private readonly options: HubListenerOptions) {}

  /** The loopback server's connection options; the listener can start only after this. */
  bindConnections(connections: SharedConnectionOptions): void {
    this.connections = connections;
  }

  /** At daemon start: brings back an enabled listener. A failure is logged and shown by `hub status`. */
  async restore(): Promise<void> {
    const settings = this.options.run.runQuery(readHubSettings, {});
    if (settings?.enabled !== 1) return;
    try {
      await this.start(settings);
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
      this.options.log.error("the hub listener did not start", { error: this.error });
    }
  }

  async enable(args: HubEnableArgs): Promise<HubStatusView> {
    const previous = this.options.run.runQuery(readHubSettings, {});
    const listen =
      args.listen !== undefined
        ? parseListen(args.listen)
        : previous
          ? { host: previous.listen_host, port: previous.listen_port }
          : parseListen(`0.0.0.0:${DEFAULT_HUB_PORT}`);
    if (args.publicUrl !== undefined && !/^wss:\/\/[^/]+\/?$/.test(args.publicUrl)) {
      throw new FleetError("invalid_argument", `--public-url must be wss://host[:port], not '${args.publicUrl}'`, { field: "publicUrl" });
    }
    const settings: HubSettingsRow = {
      enabled: 1,
      listen_host: listen.host,
      listen_port: listen.port,
      public_url: args.publicUrl ?? (args.listen === undefined ? (previous?.public_url ?? null) : null),
      tls_cert_path: args.tlsCert ?? (args.tlsKey === undefined ? (previous?.tls_cert_path ?? null) : null),
      tls_key_path: args.tlsKey ?? (args.tlsCert === undefined ? (previous?.tls_key_path ?? null) : null),
    };
    await this.stop("the hub listener is restarting");
    const port = await this.start(settings);
    // Port 0 means "any": keep the one the system gave, so invites stay valid across restarts.
    this.options.run.runMutation(saveHubSettings, { ...settings, listen_port: port });
    return this.status();
  }

  async disable(): Promise<HubStatusView> {
    this.options.run.runMutation(setHubEnabled, { enabled: false });
    await this.stop("the hub was disabled");
    this.error = null;
    return this.status();
  }

  status(): HubStatusView {
    const settings = this.options.run.runQuery(readHubSettings, {});
    return {
      enabled: settings?.enabled === 1,
      listening: this.server !== null,
      listen: this.current?.listen ?? (settings ? `${urlHost(settings.listen_host)}:${settings.listen_port}` : null),
      url: this.current?.url ?? null,
      fingerprint: this.current?.fingerprint ?? null,
      certificate: this.current?.certificate ?? null,
      error: this.error,
      linkedMachines: this.options.links.count,
      links: this.options.links.traffic(),
    };
  }

  address(): { url: string; fingerprint: string } {
    if (!this.current) throw new FleetError("failed_precondition", "the hub is not listening; run: ocfleet hub enable");
    return { url: this.current.url, fingerprint: this.current.fingerprint };
  }

  async close(): Promise<void> {
    await this.stop("daemon stopping");
  }

  private async start(settings: HubSettingsRow): Promise<number> {
    if (!this.connections) throw new FleetError("unavailable", "the daemon is still starting; try again in a moment");
    const wildcard = WILDCARD.has(settings.listen_host);
    const given = settings.public_url ? new URL(settings.public_url) : null;
    const names = [given?.hostname, wildcard ? undefined : settings.listen_host].filter((n): n is string => !!n).map((n) => n.replace(/^\[|\]$/g, ""));
    const certificate = await loadHubCertificate(this.options.home, { certPath: settings.tls_cert_path, keyPath: settings.tls_key_path }, names);
    let server: FleetServer;
    const allowedHosts: string[] = [];
    try {
      server = await FleetServer.start({
        ...this.connections,
        // Never matches: the network refuses every daemon token before comparing it.
        token: "",
        host: settings.listen_host,
        port: settings.listen_port,
        network: { acceptLink: this.options.links.accept },
        tls: { cert: certificate.cert, key: certificate.key, allowedHosts },
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "EADDRINUSE")
        throw new FleetError("failed_precondition", `${settings.listen_host}:${settings.listen_port} is in use; choose another with --listen`);
      if (code === "EADDRNOTAVAIL")
        throw new FleetError("failed_precondition", `${settings.listen_host} is not an address of this machine; choose another with --listen`);
      throw err;
    }
    const port = server.address.port;
    // The Host header may name the listen address or the public URL's host (browsers are refused by Origin anyway).
    const hosts = wildcard ? ["127.0.0.1", "localhost", hostname()] : [urlHost(settings.listen_host)];
    for (const host of hosts) allowedHosts.push(`${host}:${port}`);
    const url = settings.public_url?.replace(/\/$/, "") ?? `wss://${wildcard ? hostname() : urlHost(settings.listen_host)}:${port}`;
    const publicHost = new URL(url);
    allowedHosts.push(publicHost.host, `${publicHost.hostname}:${publicHost.port || 443}`);
    this.server = server;
    this.error = null;
    this.current = { url, fingerprint: certificate.fingerprint, certificate: certificate.source, listen: `${urlHost(settings.listen_host)}:${port}` };
    this.options.log.info("hub listening", { listen: this.current.listen, url, fingerprint: certificate.fingerprint });
    return port;
  }

  private async stop(reason: string): Promise<void> {
    const server = this.server;
    this.server = null;
    this.current = null;
    this.options.links.closeAll(reason);
    await server?.close();
  }
}
