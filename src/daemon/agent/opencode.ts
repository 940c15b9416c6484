// The one adapter to OpenCode: finding its binary (opencode-binary.ts), starting `opencode serve`, its HTTP API
// (through @opencode-ai/sdk at the pinned version) and its events. Nothing else in the code base
// knows OpenCode's routes, payload shapes or event names; they change fast between releases.
import { randomBytes } from "node:crypto";
import { createOpencodeClient, type OpencodeClient } from "@opencode-ai/sdk/v2";
import { execa, type ResultPromise } from "execa";
import { Agent } from "undici";
import type { ModelView, PartView, QuestionView, TokenCounts, ToolStatus } from "../../protocol/api/index.js";
import { withDeadline } from "../../platform/deadline.js";
import type { OpencodeBinary } from "./opencode-binary.js";

export { OPENCODE_SDK_VERSION, resolveOpencodeBinary, type BinarySource, type OpencodeBinary } from "./opencode-binary.js";

/** A model a worker's OpenCode offers: the API's view of it, less the combined id. */
export type OpencodeModel = Omit<ModelView, "id">;

export type OpencodeSessionStatus = { type: "idle" } | { type: "busy" } | { type: "retry"; attempt: number; message: string; next: number };

/** An OpenCode message, reduced to what a transcript needs. */
export interface OpencodeMessage {
  id: string;
  sessionId: string;
  role: "user" | "assistant";
  /** For an assistant message: the user message it answers. */
  parentId: string | null;
  providerId: string | null;
  modelId: string | null;
  tokens: TokenCounts | null;
  cost: number | null;
  createdAt: number | null;
  completedAt: number | null;
  /** Why the model stopped: "stop", "tool-calls" (another step follows), "length"… */
  finish: string | null;
  error: { name: string; message: string } | null;
}

/** A part of a message, in our own shape; `other` covers step markers and kinds we do not show. */
export type OpencodePart = (PartView | { id: string; kind: "other"; type: string }) & { messageId: string };

export interface OpencodePermissionRequest {
  id: string;
  sessionId: string;
  name: string;
  patterns: string[];
  detail: string | null;
  /** For an edit or write: the change, as a unified diff. */
  diff: string | null;
  /** The directory the session works in (where a bash command runs). */
  directory: string | null;
}

export interface OpencodeQuestionRequest {
  id: string;
  sessionId: string;
  questions: QuestionView[];
}

/** One file a session changed, from OpenCode's session diff. */
export interface OpencodeFileDiff {
  path: string;
  added: number;
  removed: number;
  status: "added" | "deleted" | "modified" | null;
  patch: string;
}

/** OpenCode's events, reduced to what the product uses. Plain data, so they can cross a link. */
export type OpencodeEvent =
  | { type: "session.status"; sessionId: string; status: OpencodeSessionStatus }
  | { type: "session.idle"; sessionId: string }
  | { type: "session.error"; sessionId: string | null; error: { name: string; message: string } }
  | { type: "message.updated"; sessionId: string; message: OpencodeMessage }
  | { type: "part.updated"; sessionId: string; part: OpencodePart }
  | { type: "part.delta"; sessionId: string; messageId: string; partId: string; field: string; delta: string }
  | { type: "permission.asked"; sessionId: string; request: OpencodePermissionRequest }
  | { type: "permission.replied"; sessionId: string; requestId: string; reply: string }
  | { type: "question.asked"; sessionId: string; request: OpencodeQuestionRequest }
  | { type: "question.replied"; sessionId: string; requestId: string; rejected: boolean }
  /** The event stream is back after a break: whatever happened meanwhile was not seen. */
  | { type: "events.resumed"; sessionId: null };

/** One message of a session with its parts, as OpenCode has them now. */
export interface OpencodeMessageWithParts {
  message: OpencodeMessage;
  parts: OpencodePart[];
}

function errorOf(raw: any): { name: string; message: string } | null {
  if (!raw) return null;
  return { name: String(raw.name ?? "Error"), message: String(raw.data?.message ?? raw.message ?? raw.name ?? "unknown error") };
}

function toMessage(info: any): OpencodeMessage {
  const t = info.tokens;
  return {
    id: String(info.id),
    sessionId: String(info.sessionID),
    role: info.role === "assistant" ? "assistant" : "user",
    parentId: info.parentID ?? null,
    providerId: info.providerID ?? info.model?.providerID ?? null,
    modelId: info.modelID ?? info.model?.modelID ?? null,
    tokens: t
      ? { input: t.input ?? 0, output: t.output ?? 0, reasoning: t.reasoning ?? 0, cacheRead: t.cache?.read ?? 0, cacheWrite: t.cache?.write ?? 0 }
      : null,
    cost: typeof info.cost === "number" ? info.cost : null,
    createdAt: info.time?.created ?? null,
    completedAt: info.time?.completed ?? null,
    finish: info.finish ?? null,
    error: errorOf(info.error),
  };
}

function toPart(part: any): OpencodePart {
  const base = { id: String(part.id), messageId: String(part.messageID) };
  switch (part.type) {
    case "text":
      return { ...base, kind: "text", text: String(part.text ?? "") };
    case "reasoning":
      return { ...base, kind: "reasoning", text: String(part.text ?? "") };
    case "tool": {
      const state = part.state ?? {};
      const status: ToolStatus = ["pending", "running", "completed", "error"].includes(state.status) ? state.status : "pending";
      return {
        ...base,
        kind: "tool",
        tool: String(part.tool),
        callId: String(part.callID ?? ""),
        status,
        title: state.title ?? null,
        input: state.input && typeof state.input === "object" ? state.input : {},
        output: typeof state.output === "string" ? state.output : null,
        error: typeof state.error === "string" ? state.error : null,
      };
    }
    case "patch":
      return { ...base, kind: "patch", files: Array.isArray(part.files) ? part.files.map(String) : [] };
    case "file":
      return { ...base, kind: "file", filename: part.filename ?? null, mime: part.mime ?? null };
    default:
      return { ...base, kind: "other", type: String(part.type) };
  }
}

/** Maps one raw OpenCode event to ours, or null for the many we do not use. */
export function normalizeEvent(raw: { type?: string; properties?: Record<string, any> }, directory: string | null = null): OpencodeEvent | null {
  const p = raw.properties ?? {};
  switch (raw.type) {
    case "session.status":
      return { type: "session.status", sessionId: p.sessionID, status: p.status };
    case "session.idle":
      return { type: "session.idle", sessionId: p.sessionID };
    case "session.error":
      return { type: "session.error", sessionId: p.sessionID ?? null, error: errorOf(p.error) ?? { name: "Error", message: "unknown error" } };
    case "message.updated":
      return p.info ? { type: "message.updated", sessionId: p.sessionID ?? p.info.sessionID, message: toMessage(p.info) } : null;
    case "message.part.updated":
      return p.part ? { type: "part.updated", sessionId: p.sessionID ?? p.part.sessionID, part: toPart(p.part) } : null;
    case "message.part.delta":
      return { type: "part.delta", sessionId: p.sessionID, messageId: p.messageID, partId: p.partID, field: p.field, delta: String(p.delta ?? "") };
    case "permission.asked": {
      const detail = typeof p.metadata?.command === "string" ? p.metadata.command : typeof p.metadata?.filepath === "string" ? p.metadata.filepath : null;
      return {
        type: "permission.asked",
        sessionId: p.sessionID,
        request: {
          id: String(p.id),
          sessionId: p.sessionID,
          name: String(p.permission ?? p.type ?? "permission"),
          patterns: (p.patterns ?? []).map(String),
          detail,
          diff: typeof p.metadata?.diff === "string" ? p.metadata.diff : null,
          directory,
        },
      };
    }
    case "permission.replied":
      return {
        type: "permission.replied",
        sessionId: p.sessionID,
        requestId: String(p.requestID ?? p.permissionID ?? p.id),
        reply: String(p.reply ?? p.response ?? ""),
      };
    case "question.asked":
      return {
        type: "question.asked",
        sessionId: p.sessionID,
        request: {
          id: String(p.id),
          sessionId: p.sessionID,
          questions: (p.questions ?? []).map((q: any) => ({
            question: String(q.question ?? ""),
            header: String(q.header ?? ""),
            options: (q.options ?? []).map((o: any) => ({ label: String(o.label ?? ""), description: String(o.description ?? "") })),
            multiple: q.multiple === true,
            custom: q.custom !== false,
          })),
        },
      };
    case "question.replied":
    case "question.rejected":
      return { type: "question.replied", sessionId: p.sessionID, requestId: String(p.requestID ?? p.id), rejected: raw.type === "question.rejected" };
    default:
      return null;
  }
}

export interface StartOptions {
  binary: OpencodeBinary;
  directory: string;
  env: Record<string, string | undefined>;
  /** Every line the server prints goes here (the worker's log file). */
  onOutput(line: string): void;
  onEvent(event: OpencodeEvent): void;
  /** The umask to run OpenCode (and so its tools) with; unset: the daemon's own. */
  umask?: number;
  /** Called as soon as the process exists, before it is ready: a stop or crash meanwhile must still find it. */
  onSpawn?(pid: number): void;
  readyTimeoutMs: number;
  /** How long to wait before reconnecting a broken event stream (2 s). */
  eventsRetryMs?: number;
}

/** How long one HTTP request to a worker may take before we give up on it. */
const REQUEST_TIMEOUT_MS = 15_000;
const LISTENING = /opencode server listening on (http:\/\/[^\s]+)/;

/** A running `opencode serve`: its process, its URL, and the requests we make of it. */
export class OpencodeServer {
  private readonly eventsAbort = new AbortController();
  /** Directories other than the worker's that its sessions work in (worktrees), seen in requests or events. */
  private readonly directories = new Set<string>();
  /** Where each session not in the worker's directory works, for calls that do not say (an abort from the runtime). */
  private readonly sessionDirectories = new Map<string, string>();

  private directoryOf(sessionId: string, given?: string | null): string | null {
    if (given) {
      this.directories.add(given);
      this.sessionDirectories.set(sessionId, given);
      return given;
    }
    return this.sessionDirectories.get(sessionId) ?? null;
  }
  /** Settles when the event stream delivers its first event (OpenCode's `server.connected`). */
  private readonly eventsConnected: Promise<void>;
  private markEventsConnected!: () => void;

  private constructor(
    readonly subprocess: ResultPromise,
    readonly url: string,
    private readonly client: OpencodeClient,
    /** This process's own connection pool; see `start`. */
    private readonly dispatcher: Agent,
    /** The worker's own directory. */
    private readonly home: string,
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
  static async start(options: StartOptions): Promise<OpencodeServer> {
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
      cwd: options.directory,
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
    // A connection pool per process. OpenCode takes port 4096 whenever it is free, so a restarted
    // worker usually comes back on the port of the one before it, and a shared pool would hand a
    // request (the event stream among them) a kept-alive socket to the dead process: ECONNRESET.
    const dispatcher = new Agent({ keepAliveTimeout: 10_000 });
    const client = createOpencodeClient({
      baseUrl: url,
      directory: options.directory,
      headers: { authorization: `Basic ${Buffer.from(`opencode:${password}`).toString("base64")}` },
      fetch: (input: string | URL | Request, init?: RequestInit) => fetch(input, { ...init, dispatcher } as RequestInit),
    });
    const server = new OpencodeServer(subprocess, url, client, dispatcher, options.directory);
    server.followEvents(options);
    return server;
  }

  /**
   * Resolves once the event stream is connected. Until then a prompt's reply would go unseen,
   * so a worker is not ready before this.
   */
  waitForEvents(timeoutMs: number): Promise<void> {
    return withDeadline(this.eventsConnected, timeoutMs, `the event stream did not connect within ${timeoutMs} ms`);
  }

  /** Health and version; throws if the server does not answer in time. */
  async health(): Promise<{ healthy: boolean; version: string }> {
    const response = await this.client.global.health({ signal: AbortSignal.timeout(5000) });
    if (!response.data) throw new Error(`health check failed (${response.response?.status ?? "no response"})`);
    return response.data as { healthy: boolean; version: string };
  }

  async listModels(): Promise<OpencodeModel[]> {
    const response = await this.client.config.providers(undefined, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const data = response.data as { providers?: any[]; default?: Record<string, string> } | undefined;
    if (!data?.providers) throw new Error(`listing models failed (${response.response?.status ?? "no response"})`);
    const defaults = data.default ?? {};
    return data.providers.flatMap((provider) =>
      Object.values(provider.models ?? {}).map((model: any) => ({
        providerId: String(provider.id),
        providerName: String(provider.name ?? provider.id),
        modelId: String(model.id),
        name: String(model.name ?? model.id),
        contextLimit: typeof model.limit?.context === "number" ? model.limit.context : null,
        outputLimit: typeof model.limit?.output === "number" ? model.limit.output : null,
        toolCall: Boolean(model.capabilities?.toolcall ?? model.tool_call),
        isDefault: defaults[provider.id] === model.id,
      })),
    );
  }

  /** Ids of the sessions that are busy now. */
  async busySessions(): Promise<string[]> {
    const response = await this.client.session.status(undefined, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const statuses = (response.data ?? {}) as Record<string, OpencodeSessionStatus>;
    return Object.entries(statuses)
      .filter(([, status]) => status.type !== "idle")
      .map(([id]) => id);
  }

  async abort(sessionId: string, timeoutMs = REQUEST_TIMEOUT_MS, directory?: string | null): Promise<void> {
    await this.client.session.abort(
      { sessionID: sessionId, ...inDirectory(this.directoryOf(sessionId, directory)) },
      { signal: AbortSignal.timeout(timeoutMs) },
    );
  }

  /**
   * Creates a session; giving a title spares OpenCode a title request to the model. A `directory`
   * other than the worker's (a worktree) becomes the session's: OpenCode runs its tools there.
   */
  async createSession(title: string, directory?: string | null): Promise<string> {
    const response = await this.client.session.create({ title, ...inDirectory(directory) }, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const id = (response.data as { id?: string } | undefined)?.id;
    if (!id) throw new Error(`creating a session failed (${response.response?.status ?? "no response"})`);
    this.directoryOf(id, directory);
    return id;
  }

  async sessionExists(sessionId: string): Promise<boolean> {
    const response = await this.client.session.get({ sessionID: sessionId }, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (response.data) return true;
    if (response.response?.status === 404) return false;
    throw new Error(`looking up session ${sessionId} failed (${response.response?.status ?? "no response"})`);
  }

  /** A session's latest `limit` messages (all without one) and their parts, oldest first. */
  async sessionMessages(sessionId: string, limit?: number): Promise<OpencodeMessageWithParts[]> {
    const response = await this.client.session.messages(
      { sessionID: sessionId, ...(limit ? { limit } : {}) },
      { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
    );
    const data = response.data as { info: unknown; parts: unknown[] }[] | undefined;
    if (!data) throw new Error(`reading the messages of session ${sessionId} failed (${response.response?.status ?? "no response"})`);
    return data.map((entry) => ({ message: toMessage(entry.info), parts: entry.parts.map(toPart) }));
  }

  /**
   * The permission and question requests waiting for an answer, as the events that asked them: in
   * the worker's directory and in every other one its sessions were seen working in (worktrees).
   */
  async pendingRequests(): Promise<OpencodeEvent[]> {
    const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const lists = await Promise.all(
      [undefined, ...this.directories].map(async (directory) => {
        const query = directory ? { directory } : undefined;
        const where = directory ?? this.home;
        const [permissions, questions] = await Promise.all([this.client.permission.list(query, { signal }), this.client.question.list(query, { signal })]);
        if (!permissions.data || !questions.data) throw new Error("listing pending requests failed");
        return [
          ...(permissions.data as Record<string, any>[]).map((properties) => normalizeEvent({ type: "permission.asked", properties }, where)),
          ...(questions.data as Record<string, any>[]).map((properties) => normalizeEvent({ type: "question.asked", properties }, where)),
        ];
      }),
    );
    return lists.flat().filter((event): event is OpencodeEvent => event !== null);
  }

  /**
   * The files OpenCode says a session changed, with their patches. OpenCode 1.18.33 answers the
   * session-wide diff with nothing, but a diff per user message works: so one request per prompt,
   * oldest first, with each file's counts summed and its patches in order.
   */
  async sessionDiff(sessionId: string, directory?: string | null): Promise<OpencodeFileDiff[]> {
    const where = inDirectory(this.directoryOf(sessionId, directory));
    const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const listed = await this.client.session.messages({ sessionID: sessionId, ...where }, { signal });
    const messages = listed.data as Array<{ info: { id: string; role: string } }> | undefined;
    if (!messages) throw new Error(`reading the messages of session ${sessionId} failed (${listed.response?.status ?? "no response"})`);
    const files = new Map<string, OpencodeFileDiff>();
    for (const { info } of messages.filter((m) => m.info.role === "user")) {
      const response = await this.client.session.diff({ sessionID: sessionId, messageID: info.id, ...where }, { signal });
      const data = response.data as Array<{ file?: string; patch?: string; additions?: number; deletions?: number; status?: string }> | undefined;
      if (!data) throw new Error(`reading the diff of session ${sessionId} failed (${response.response?.status ?? "no response"})`);
      for (const d of data) {
        const path = String(d.file ?? "");
        const status = d.status === "added" || d.status === "deleted" || d.status === "modified" ? d.status : null;
        const patch = String(d.patch ?? "");
        const seen = files.get(path);
        if (!seen) files.set(path, { path, added: d.additions ?? 0, removed: d.deletions ?? 0, status, patch });
        else files.set(path, { ...seen, added: seen.added + (d.additions ?? 0), removed: seen.removed + (d.deletions ?? 0), patch: seen.patch + patch });
      }
    }
    return [...files.values()];
  }

  async renameSession(sessionId: string, title: string): Promise<void> {
    await this.client.session.update({ sessionID: sessionId, title }, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  }

  /** Queues a prompt; the reply arrives as events. */
  async prompt(sessionId: string, text: string, model: { providerId: string; modelId: string } | null, directory?: string | null): Promise<void> {
    const response = await this.client.session.promptAsync(
      {
        sessionID: sessionId,
        ...inDirectory(this.directoryOf(sessionId, directory)),
        parts: [{ type: "text", text }],
        ...(model ? { model: { providerID: model.providerId, modelID: model.modelId } } : {}),
      },
      { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
    );
    const status = response.response?.status ?? 0;
    if (status < 200 || status >= 300) throw new Error(`sending the prompt failed (${status || "no response"})`);
  }

  async replyPermission(requestId: string, reply: "once" | "always" | "reject", directory?: string | null): Promise<void> {
    const response = await this.client.permission.reply(
      { requestID: requestId, reply, ...inDirectory(directory) },
      { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
    );
    if (response.error) throw new Error(`answering permission ${requestId} failed: ${JSON.stringify(response.error)}`);
  }

  /** Answers a question request; `answers` holds one list of chosen labels (or free text) per question. */
  async replyQuestion(requestId: string, answers: string[][], directory?: string | null): Promise<void> {
    const response = await this.client.question.reply(
      { requestID: requestId, answers, ...inDirectory(directory) },
      { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
    );
    if (response.error) throw new Error(`answering question ${requestId} failed: ${JSON.stringify(response.error)}`);
  }

  async rejectQuestion(requestId: string, directory?: string | null): Promise<void> {
    const response = await this.client.question.reject(
      { requestID: requestId, ...inDirectory(directory) },
      { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
    );
    if (response.error) throw new Error(`dismissing question ${requestId} failed: ${JSON.stringify(response.error)}`);
  }

  /** Asks OpenCode to release its instance state (the polite step before SIGTERM). */
  async dispose(timeoutMs = REQUEST_TIMEOUT_MS): Promise<void> {
    await this.client.instance.dispose(undefined, { signal: AbortSignal.timeout(timeoutMs) });
  }

  /** Stops following events and drops this process's connections; the process itself is the supervisor's to stop. */
  detach(): void {
    this.eventsAbort.abort();
    void this.dispatcher.destroy().catch(() => {});
  }

  /**
   * Follows the event stream until detached. The SDK retries a failed connection by itself but
   * stops when the server ends the stream cleanly, so that case reconnects here. It is the global
   * stream: `/event` carries only the worker directory's events, and a worktree chat's session
   * works in another directory; each global event says which.
   */
  private followEvents(options: Pick<StartOptions, "onEvent" | "onOutput" | "eventsRetryMs">): void {
    const signal = this.eventsAbort.signal;
    const retryMs = options.eventsRetryMs ?? 2000;
    let connections = 0;
    void (async () => {
      for (let attempt = 1; !signal.aborted; attempt++) {
        if (attempt > 1) {
          options.onOutput(`--- ocfleet: the event stream ended; reconnecting`);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        try {
          const { stream } = await this.client.global.event({
            signal,
            sseDefaultRetryDelay: retryMs,
            sseMaxRetryDelay: retryMs,
            onSseError: (err: unknown) => {
              if (!signal.aborted) options.onOutput(`--- ocfleet: event stream: ${describeFetchError(err)}; retrying`);
            },
          } as never);
          for await (const wrapped of stream) {
            const { directory, payload: raw } = wrapped as { directory?: string; payload: unknown };
            if (directory && directory !== "global" && directory !== this.home) this.directories.add(directory);
            // OpenCode greets every connection with server.connected; after the first, say so.
            if ((raw as { type?: string }).type === "server.connected" && connections++ > 0) options.onEvent({ type: "events.resumed", sessionId: null });
            this.markEventsConnected();
            const event = normalizeEvent(
              raw as { type?: string; properties?: Record<string, unknown> },
              directory && directory !== "global" ? directory : null,
            );
            if (event) options.onEvent(event);
          }
        } catch {
          // Aborted by detach, or the process went away; the supervisor notices an exit.
        }
      }
    })();
  }
}

/** The SDK's per-request directory (`?directory=`), when it is not the worker's own. */
function inDirectory(directory: string | null | undefined): { directory?: string } {
  return directory ? { directory } : {};
}

/** "fetch failed" says little; its cause (ECONNRESET, ECONNREFUSED…) says what happened. */
function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${err.message}${cause}`;
}
