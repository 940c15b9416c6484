// A real headless Chromium for tests: a launcher script to hand the product as its BROWSER (so the
// product opens the page its own way), and a small DevToolsProtocol client over `ws` that reads
// what a page rendered. No browser-automation package: five protocol methods are all we use.
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { WebSocket } from "ws";

const BROWSER_NAMES = ["chromium", "chromium-browser", "google-chrome-stable", "google-chrome"];

/** The first Chromium on PATH (Debian's `chromium` package installs /usr/bin/chromium), or null. */
export function findChromium(path = process.env.PATH ?? ""): string | null {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    for (const name of BROWSER_NAMES) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {}
    }
  }
  return null;
}

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  sessionId?: string;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/**
 * A headless Chromium started by whoever runs `command` with a URL: its profile, the DevTools
 * port it announces there and its pid all live in one temporary directory.
 */
export class HeadlessChromium {
  readonly dir = mkdtempSync(join(tmpdir(), "ocf-chromium-"));
  /** An executable that starts the browser on the URL given as its only argument (a BROWSER command). */
  readonly command = join(this.dir, "browser");
  private socket: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(result: Record<string, unknown>): void; reject(err: Error): void }>();
  private readonly listeners = new Set<(message: CdpMessage) => void>();

  constructor(readonly binary: string) {
    // Root (as in CI) cannot use Chromium's sandbox; the pages are the test's own, on loopback.
    const flags = [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--remote-debugging-port=0",
      `--user-data-dir=${this.profile}`,
    ];
    // Chromium runs as the launcher's child, so the launcher can say when it has exited.
    writeFileSync(
      this.command,
      [
        "#!/bin/sh",
        "# Started by the product's browser opener with the URL.",
        `'${binary}' ${flags.map((f) => `'${f}'`).join(" ")} "$@" > '${this.dir}/log' 2>&1 &`,
        `echo $! > '${this.dir}/pid'`,
        "wait $!",
        `echo $? > '${this.dir}/exited'`,
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
  }

  private get profile(): string {
    return join(this.dir, "profile");
  }

  /** Whether anything ran the launcher. */
  get launched(): boolean {
    return existsSync(join(this.dir, "pid"));
  }

  /** Chromium's own output, for failure messages. */
  get log(): string {
    return existsSync(join(this.dir, "log")) ? readFileSync(join(this.dir, "log"), "utf8") : "(the launcher never ran)";
  }

  /**
   * Connects once Chromium has written its DevTools port into the profile, which it does as soon
   * as it listens; fails with Chromium's output if that does not happen within `timeoutMs`.
   */
  async attach(timeoutMs = 30_000): Promise<void> {
    const portFile = join(this.profile, "DevToolsActivePort");
    const announced = () => existsSync(portFile) && /^\d+\n\/devtools\/browser\//.test(readFileSync(portFile, "utf8"));
    if (!(await waitForFile(this.dir, announced, timeoutMs))) {
      throw new Error(`Chromium did not start within ${timeoutMs / 1000} s (${this.launched ? "launched" : "never launched"}); its output:\n${this.log}`);
    }
    const [port, path] = readFileSync(portFile, "utf8").split("\n");
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    socket.on("message", (data) => {
      const message = JSON.parse(String(data)) as CdpMessage;
      if (message.id !== undefined) {
        const call = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) call?.reject(new Error(`DevTools: ${message.error.message}`));
        else call?.resolve(message.result ?? {});
      } else for (const listener of this.listeners) listener(message);
    });
    socket.on("close", () => {
      for (const call of this.pending.values()) call.reject(new Error("the browser went away"));
      this.pending.clear();
    });
    this.socket = socket;
  }

  private send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const socket = this.socket;
    if (!socket) throw new Error("not attached to the browser");
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params, sessionId }));
    });
  }

  /**
   * The text the browser's page shows once a document at `pathname` has finished loading: what a
   * person would read (`innerText`, so markup and hidden text do not count).
   */
  async renderedText(pathname: string): Promise<{ url: string; title: string; text: string }> {
    const { targetInfos } = (await this.send("Target.getTargets")) as { targetInfos: Array<{ targetId: string; type: string }> };
    const page = targetInfos.find((t) => t.type === "page");
    if (!page) throw new Error("the browser has no page open");
    const { sessionId } = (await this.send("Target.attachToTarget", { targetId: page.targetId, flatten: true })) as { sessionId: string };
    const read = async () => {
      const { result } = (await this.send(
        "Runtime.evaluate",
        {
          expression:
            "({ url: location.href, path: location.pathname, ready: document.readyState, title: document.title, text: document.body?.innerText ?? '' })",
          returnByValue: true,
        },
        sessionId,
      )) as { result: { value: { url: string; path: string; ready: string; title: string; text: string } } };
      return result.value;
    };
    // Listen before the first look, so a load that lands in between is not missed.
    return new Promise((resolve, reject) => {
      const check = () =>
        read().then((page) => {
          if (page.path !== pathname || page.ready !== "complete") return;
          this.listeners.delete(onEvent);
          resolve({ url: page.url, title: page.title, text: page.text });
        }, reject);
      const onEvent = (message: CdpMessage) => {
        if (message.sessionId === sessionId && message.method === "Page.loadEventFired") void check();
      };
      this.listeners.add(onEvent);
      this.send("Page.enable", {}, sessionId).then(check, reject);
    });
  }

  /** Closes the browser (killing it if it does not exit within `timeoutMs`), then removes its profile. */
  async close(timeoutMs = 15_000): Promise<void> {
    const exited = () => existsSync(join(this.dir, "exited"));
    if (this.launched) {
      if (this.socket?.readyState === WebSocket.OPEN) await this.send("Browser.close").catch(() => {});
      if (!(await waitForFile(this.dir, exited, this.socket ? timeoutMs : 0))) {
        try {
          process.kill(Number(readFileSync(join(this.dir, "pid"), "utf8")), "SIGKILL");
        } catch {}
        await waitForFile(this.dir, exited, timeoutMs);
      }
    }
    this.socket?.terminate();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resolves true when `ready()` holds after a change under `dir` (or at once), false after the timeout. */
function waitForFile(dir: string, ready: () => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (outcome: boolean) => {
      watcher.close();
      clearTimeout(timer);
      resolve(outcome);
    };
    const watcher = watch(dir, { recursive: true }, () => ready() && finish(true));
    const timer = setTimeout(() => finish(false), timeoutMs);
    if (ready()) finish(true);
  });
}
