// ocfleet daemon install|uninstall: a systemd user unit (Linux) or a launchd agent (macOS), so the
// daemon starts at login and survives reboots.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { daemonNodeFlags, stopDaemon } from "../../client/daemon.js";
import { PACKAGE_ROOT } from "../../platform/package-root.js";
import { resolveStateDir } from "../../protocol/statefile.js";
import { EXIT_ALREADY_RUNNING, EXIT_STATE_UNUSABLE } from "../../protocol/exit-codes.js";
import { CliError } from "../output.js";

export interface ServiceFile {
  kind: "systemd" | "launchd";
  /** The unit or agent's name. */
  name: string;
  path: string;
  content: string;
  /** What turns it on, and off. */
  enable: string[][];
  disable: string[][];
}

/** One service per state directory: the default one is plain "ocfleet", others get a short hash. */
function serviceSuffix(home: string): string {
  const isDefault = resolve(home) === resolve(resolveStateDir({ ...process.env, OCFLEET_HOME: "" }));
  return isDefault ? "" : `-${createHash("sha256").update(resolve(home)).digest("hex").slice(0, 8)}`;
}

export function serviceFile(home: string, platform: NodeJS.Platform = process.platform): ServiceFile {
  const bin = join(PACKAGE_ROOT, "bin", "ocfleet.js");
  const args = [process.execPath, ...daemonNodeFlags(), bin, "daemon", "run", "--background"];
  const suffix = serviceSuffix(home);
  const path = process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin";
  if (platform === "darwin") {
    const label = `dev.opencode-fleet.daemon${suffix}`;
    const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    const file = join(homedir(), "Library", "LaunchAgents", `${label}.plist`);
    return {
      kind: "launchd",
      name: label,
      path: file,
      content: `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>${label}</string>
  <key>ProgramArguments</key>
  <array>
${args.map((a) => `    <string>${xml(a)}</string>`).join("\n")}
  </array>
  <key>EnvironmentVariables</key>
  <dict>
    <key>OCFLEET_HOME</key><string>${xml(resolve(home))}</string>
    <key>OCFLEET_SERVICE</key><string>launchd</string>
    <key>PATH</key><string>${xml(path)}</string>
  </dict>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>
  <key>StandardOutPath</key><string>${xml(join(resolve(home), "daemon.log"))}</string>
  <key>StandardErrorPath</key><string>${xml(join(resolve(home), "daemon.log"))}</string>
</dict>
</plist>
`,
      enable: [["launchctl", "load", "-w", file]],
      disable: [["launchctl", "unload", "-w", file]],
    };
  }
  if (platform !== "linux") throw new CliError(`daemon install supports Linux (systemd) and macOS (launchd), not ${platform}`);
  const unit = `ocfleet${suffix}.service`;
  const quote = (s: string) => (/[\s"\\]/.test(s) ? `"${s.replace(/(["\\])/g, "\\$1")}"` : s);
  return {
    kind: "systemd",
    name: unit,
    path: join(process.env.XDG_CONFIG_HOME || join(homedir(), ".config"), "systemd", "user", unit),
    content: `[Unit]
Description=ocfleet daemon: OpenCode workers for ${resolve(home)}
After=network-online.target

[Service]
Type=simple
ExecStart=${args.map(quote).join(" ")}
Environment=${quote(`OCFLEET_HOME=${resolve(home)}`)}
Environment=${quote(`PATH=${path}`)}
Restart=on-failure
RestartSec=5
# Another daemon already runs for this state directory, or state.db is empty or not a database
# (it is never replaced; a person must decide): restarting would not help.
RestartPreventExitStatus=${EXIT_ALREADY_RUNNING} ${EXIT_STATE_UNUSABLE}
# The daemon stops its OpenCode workers itself; give it the time it budgets, then kill what is left.
KillMode=mixed
TimeoutStopSec=15

[Install]
WantedBy=default.target
`,
    enable: [
      ["systemctl", "--user", "daemon-reload"],
      ["systemctl", "--user", "enable", "--now", unit],
    ],
    disable: [
      ["systemctl", "--user", "disable", "--now", unit],
      ["systemctl", "--user", "daemon-reload"],
    ],
  };
}

function run(command: string[]): void {
  try {
    execFileSync(command[0]!, command.slice(1), { stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    const why = e.stderr?.toString().trim() || e.message;
    throw new CliError(`\`${command.join(" ")}\` failed: ${why.split("\n")[0]}`);
  }
}

/** Writes the service file, stops a daemon started by hand, and turns the service on. */
export async function installService(home: string): Promise<ServiceFile> {
  const service = serviceFile(home);
  mkdirSync(dirname(service.path), { recursive: true });
  writeFileSync(service.path, service.content);
  // The service starts its own daemon; one started by a command would hold the state directory.
  await stopDaemon(home);
  try {
    for (const command of service.enable) run(command);
  } catch (err) {
    throw new CliError(
      `wrote ${service.path}, but could not turn it on: ${(err as Error).message}. ` +
        `Run ${service.enable.map((c) => c.join(" ")).join(" && ")} in your login session, or remove the file.`,
    );
  }
  return service;
}

export function uninstallService(home: string): { service: ServiceFile; removed: boolean } {
  const service = serviceFile(home);
  if (!existsSync(service.path)) return { service, removed: false };
  const problems: string[] = [];
  for (const command of service.disable) {
    try {
      run(command);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  rmSync(service.path, { force: true });
  if (problems.length > 0) throw new CliError(`removed ${service.path}, but: ${problems.join("; ")}`);
  return { service, removed: true };
}
