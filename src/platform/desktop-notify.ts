// Desktop notifications through the platform's own notifier: notify-send (libnotify) on Linux and
// the BSDs, osascript on macOS, found on PATH. Both sides use it: the daemon for `notify desktop`,
// the CLI for `chat send --wait --notify`. Where there is none, callers say so.
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export interface DesktopNotifier {
  name: string;
  show(title: string, body: string): Promise<void>;
}

function onPath(command: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return join(dir, command);
    } catch {
      // not here
    }
  }
  return null;
}

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 5000 }, (err) => (err ? reject(err) : resolve()));
  });
}

/** AppleScript string literal: backslashes and quotes escaped. */
const appleString = (text: string) => `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

export function findDesktopNotifier(platform: NodeJS.Platform = process.platform): DesktopNotifier | null {
  if (platform === "darwin") {
    const osascript = onPath("osascript");
    if (osascript)
      return { name: "osascript", show: (title, body) => run(osascript, ["-e", `display notification ${appleString(body)} with title ${appleString(title)}`]) };
    return null;
  }
  const notifySend = onPath("notify-send");
  if (notifySend) return { name: "notify-send", show: (title, body) => run(notifySend, ["--app-name=ocfleet", "--", title, body]) };
  return null;
}

/** What to tell a user whose machine has no notifier. */
export function noNotifierAdvice(platform: NodeJS.Platform = process.platform): string {
  return platform === "darwin"
    ? "this machine has no desktop notifier (osascript was not found on PATH)"
    : "this machine has no desktop notifier: install libnotify's notify-send (e.g. apt install libnotify-bin) and run this again";
}
