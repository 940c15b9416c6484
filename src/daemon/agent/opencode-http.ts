// OpenCode's HTTP API as the adapter speaks it: JSON requests and the server-sent event stream,
// over node:http with one keep-alive connection pool per `opencode serve` process. Part of the one
// OpenCode adapter. The routes and payloads are the pinned release's, sent as its SDK
// (@opencode-ai/sdk) sends them (opencode.ts names them); the SDK's client itself is not used: it
// builds on the global `fetch`, and that makes Node load its bundled undici, ~10 MB of the
// daemon's memory for requests to a process on loopback (docs/performance.md, "Round 4").
import { Agent, request as httpRequest, type IncomingMessage } from "node:http";

export type HttpMethod = "GET" | "POST" | "PATCH";

export interface OpencodeRequest {
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | number | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortSignal;
}

/** What came back: the status, and the body parsed as JSON (`data` for a 2xx, `error` otherwise). */
export interface OpencodeResponse<T> {
  status: number;
  data: T | undefined;
  error: unknown;
}

/** A failed request in words, with its code when the message lacks it ("aborted: ECONNRESET", "socket hang up: ECONNRESET"). */
export function describeHttpError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  return code && !err.message.includes(code) ? `${err.message}: ${code}` : err.message;
}

/**
 * How long an idle kept-alive socket stays in the pool: below the server's own idle limit (Bun's
 * is 10 s), so a request never goes out on a socket the server is closing. (A socket in use, such
 * as the event stream's, is not closed by it.)
 */
const IDLE_SOCKET_MS = 4000;

export class OpencodeHttp {
  /**
   * A pool per process. OpenCode takes port 4096 whenever it is free, so a restarted process
   * usually comes back on the port of the one before it, and a shared pool would hand a request
   * (the event stream among them) a kept-alive socket to the dead process: ECONNRESET.
   */
  private readonly agent = new Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS });

  constructor(
    private readonly baseUrl: string,
    private readonly authorization: string,
  ) {}

  /**
   * One request about `directory` (the worker's, or one of its worktrees): OpenCode reads it from
   * the `x-opencode-directory` header and, on GET, from `?directory=`, as the SDK sends it.
   */
  async request<T>(method: HttpMethod, path: string, directory: string | null, options: OpencodeRequest = {}): Promise<OpencodeResponse<T>> {
    const query = { ...(method === "GET" && directory ? { directory } : {}), ...options.query };
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const response = await this.send(method, this.url(path, query), directory, body, options.signal, "application/json");
    const text = await readAll(response);
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    const ok = response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 300;
    return { status: response.statusCode ?? 0, data: ok ? (parsed as T) : undefined, error: ok ? undefined : (parsed ?? response.statusMessage) };
  }

  /**
   * The server-sent events of `path`, each `data` parsed as JSON, until the server ends the stream
   * (the iterator returns) or the connection fails or `signal` aborts (it throws). Reconnecting is
   * the caller's (opencode-process.ts).
   */
  async *events(path: string, directory: string, signal: AbortSignal): AsyncGenerator<unknown> {
    const response = await this.send("GET", this.url(path, { directory }), directory, undefined, signal, "text/event-stream");
    if (response.statusCode !== 200) {
      response.resume();
      throw new Error(`the event stream answered ${response.statusCode}`);
    }
    response.setEncoding("utf8");
    let buffered = "";
    for await (const chunk of response as AsyncIterable<string>) {
      buffered += chunk.includes("\r") ? chunk.replace(/\r\n?/g, "\n") : chunk;
      for (let end = buffered.indexOf("\n\n"); end >= 0; end = buffered.indexOf("\n\n")) {
        const data = dataOf(buffered.slice(0, end));
        buffered = buffered.slice(end + 2);
        if (data === null) continue;
        try {
          yield JSON.parse(data);
        } catch {
          // Not JSON: not an event the adapter can use.
        }
      }
    }
  }

  /** Drops the pool's connections; the process itself is the supervisor's to stop. */
  destroy(): void {
    this.agent.destroy();
  }

  private url(path: string, query: Record<string, string | number | undefined>): URL {
    const url = new URL(path, this.baseUrl);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    return url;
  }

  private send(method: HttpMethod, url: URL, directory: string | null, body: string | undefined, signal: AbortSignal | undefined, accept: string) {
    return new Promise<IncomingMessage>((resolve, reject) => {
      const headers: Record<string, string> = { authorization: this.authorization, accept };
      if (directory) headers["x-opencode-directory"] = encodeURIComponent(directory);
      if (body !== undefined) {
        headers["content-type"] = "application/json";
        headers["content-length"] = String(Buffer.byteLength(body));
      }
      const req = httpRequest(url, { method, headers, agent: this.agent, signal }, resolve);
      req.once("error", reject);
      req.end(body);
    });
  }
}

/** The `data` of one server-sent event (its data lines joined), or null when it has none. */
function dataOf(event: string): string | null {
  const lines = event.split("\n").filter((line) => line.startsWith("data:"));
  if (lines.length === 0) return null;
  return lines.map((line) => line.slice(line.startsWith("data: ") ? 6 : 5)).join("\n");
}

async function readAll(response: IncomingMessage): Promise<string> {
  response.setEncoding("utf8");
  let text = "";
  for await (const chunk of response as AsyncIterable<string>) text += chunk;
  return text;
}
