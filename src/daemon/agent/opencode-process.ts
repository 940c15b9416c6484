// One running `opencode serve` process: starting it, its health, and its one event stream. A process
// may serve many workers' directories (see process-group.ts); the requests about one directory go
// through an OpencodeServer (opencode.ts) that `serverFor` hands out. Part of the one OpenCode adapter.
import { randomBytes } from "node:crypto";
import { execa, type ResultPromise } from "execa";
import { withDeadline } from "../../platform/deadline.js";
import { describeHttpError, OpencodeHttp } from "./opencode-http.js";
import { normalizeEvent, type OpencodeEvent } from "./opencode-events.js";
import type { OpencodeBinary } from "./opencode-binary.js";
import { OpencodeServer } from "./opencode.js";

export interface ProcessStartOptions {
  binary: OpencodeBinary;
  /** The process's working directory (the first worker's); every request names its own directory anyway. */
  cwd: string;
  env: Record<string, string | undefined>;
  /** Every line the server prints goes here. */
  onOutput(line: string): void;
  /**
   * Every event we use, with the directory of the instance it came from (null: process-wide, such as
   * `events.resumed`). The caller fans them out to the workers by directory.
   */
  onEvent(event: OpencodeEvent, directory: string | null): void;
  /** The umask to run OpenCode (and so its tools) with; unset: the daemon's own. */
  umask?: number;
  /** Called as soon as the process exists, before it is ready: a stop or crash meanwhile must still find it. */
  onSpawn?(pid: number): void;
  readyTimeoutMs: number;
  /** How long to wait before reconnecting a broken event stream (2 s). */
  eventsRetryMs?: number;
}

const LISTENING = /opencode server listening on (http:\/\/[^\s]+)/;

export class OpencodeProcess {
  private readonly eventsAbort = new AbortController();
  /** Settles when the event stream delivers its first event (OpenCode's `server.connected`). */
  private readonly eventsConnected: Promise<void>;
  private markEventsConnected!: () => void;

  private constructor(
    readonly subprocess: ResultPromise,
    readonly url: string,
    /** This process's HTTP API, with its own connection pool (opencode-http.ts says why). */
    private readonly http: OpencodeHttp,
    /** The directory the global routes are asked about, as the SDK's process-wide client did: the first worker's. */
    private readonly cwd: string,
  ) {
    this.eventsConnected = new Promise((resolve) => (this.markEventsConnected = resolve));
  }

  get pid(): number {
    return this.subprocess.pid!;
  }

  /**
   * Spawns the server in its own process group (so a Ctrl-C aimed at the daemon does not reach it)
   * and waits for its "listening" line: requests sent before it can hang forever.
   */
  static async start(options: ProcessStartOptions): Promise<OpencodeProcess> {
    // A password per process: anything else on this machine that finds the port cannot drive the agent.
    const password = randomBytes(24).toString("base64url");
    const argv = ["serve", "--hostname", "127.0.0.1", "--port", "0", "--print-logs"];
    // Node cannot give a child another umask, and changing the daemon's own for a moment would race
    // its other file writes: a shell sets it and then becomes OpenCode (exec keeps the pid).
    const [file, args] =
      options.umask === undefined || process.platform === "win32"
        ? [options.binary.path, argv]
        : ["/bin/sh", ["-c", 'umask "$0" && exec "$@"', options.umask.toString(8).padStart(4, "0"), options.binary.path, ...argv]];
    const subprocess = execa(file, args, {
      cwd: options.cwd,
      env: { ...options.env, OPENCODE_SERVER_PASSWORD: password, OPENCODE_SERVER_USERNAME: "opencode" },
      extendEnv: false,
      detached: true,
      stdin: "ignore",
      buffer: false,
      reject: false,
      cleanup: false,
    });
    if (subprocess.pid !== undefined) options.onSpawn?.(subprocess.pid);
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening" line within ${options.readyTimeoutMs} ms`)), options.readyTimeoutMs);
      let pending = "";
      const onChunk = (chunk: Buffer) => {
        pending += chunk.toString("utf8");
        let newline: number;
        while ((newline = pending.indexOf("\n")) >= 0) {
          const line = pending.slice(0, newline).replace(/\r$/, "");
          pending = pending.slice(newline + 1);
          options.onOutput(line);
          const match = LISTENING.exec(line);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        }
      };
      subprocess.stdout!.on("data", onChunk);
      subprocess.stderr!.on("data", onChunk);
      subprocess.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      subprocess.on("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`opencode exited before it was ready (${signal ?? `code ${code}`})`));
      });
    }).catch((err: Error) => {
      subprocess.kill("SIGKILL");
      throw err;
    });
    const authorization = `Basic ${Buffer.from(`opencode:${password}`).toString("base64")}`;
    const process_ = new OpencodeProcess(subprocess, url, new OpencodeHttp(url, authorization), options.cwd);
    process_.followEvents(options);
    return process_;
  }

  /** The requests about one directory (a worker's), through this process. */
  serverFor(directory: string): OpencodeServer {
    return new OpencodeServer(this.http, directory);
  }

  /**
   * Resolves once the event stream is connected. Until then a prompt's reply would go unseen,
   * so no worker is ready before this.
   */
  waitForEvents(timeoutMs: number): Promise<void> {
    return withDeadline(this.eventsConnected, timeoutMs, `the event stream did not connect within ${timeoutMs} ms`);
  }

  /** Health and version; throws if the server does not answer in time. */
  async health(): Promise<{ healthy: boolean; version: string }> {
    const response = await this.http.request<{ healthy: boolean; version: string }>("GET", "/global/health", this.cwd, { signal: AbortSignal.timeout(5000) });
    if (!response.data) throw new Error(`health check failed (${response.status})`);
    return response.data;
  }

  /** Stops following events and drops this process's connections; the process itself is the supervisor's to stop. */
  detach(): void {
    this.eventsAbort.abort();
    this.http.destroy();
  }

  /**
   * Follows the global event stream until detached: one stream per process, whatever number of
   * directories it serves; each event says which. A stream that fails is opened again after
   * `eventsRetryMs`, one the server ended cleanly after 250 ms.
   */
  private followEvents(options: Pick<ProcessStartOptions, "onEvent" | "onOutput" | "eventsRetryMs">): void {
    const signal = this.eventsAbort.signal;
    const retryMs = options.eventsRetryMs ?? 2000;
    let connections = 0;
    void (async () => {
      while (!signal.aborted) {
        let pause: number;
        try {
          for await (const wrapped of this.http.events("/global/event", this.cwd, signal)) {
            const { directory, payload: raw } = wrapped as { directory?: string; payload: unknown };
            // OpenCode greets every connection with server.connected; after the first, say so.
            if ((raw as { type?: string }).type === "server.connected" && connections++ > 0) options.onEvent({ type: "events.resumed", sessionId: null }, null);
            this.markEventsConnected();
            const where = directory && directory !== "global" ? directory : null;
            const event = normalizeEvent(raw as { type?: string; properties?: Record<string, unknown> }, where);
            if (event) options.onEvent(event, where);
          }
          options.onOutput(`--- ocfleet: the event stream ended; reconnecting`);
          pause = 250;
        } catch (err) {
          // Aborted by detach, or the connection failed; a process that went away is the supervisor's to notice.
          if (signal.aborted) return;
          options.onOutput(`--- ocfleet: event stream: ${describeHttpError(err)}; retrying`);
          pause = retryMs;
        }
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    })();
  }
}
