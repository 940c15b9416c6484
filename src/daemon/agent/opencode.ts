// The one adapter to OpenCode: finding its binary (opencode-binary.ts), running `opencode serve`
// (opencode-process.ts), its events (opencode-events.ts) and, here, its HTTP API for one directory
// (the routes of the pinned OpenCode release, spoken by opencode-http.ts). Nothing else
// in the code base knows OpenCode's routes, payload shapes or event names; they change fast
// between releases.
import type { OpencodeHttp, OpencodeResponse } from "./opencode-http.js";
import {
  normalizeEvent,
  toMessage,
  toPart,
  type OpencodeEvent,
  type OpencodeFileDiff,
  type OpencodeMessageWithParts,
  type OpencodeModel,
  type OpencodeSessionStatus,
} from "./opencode-events.js";

export { OPENCODE_VERSION, resolveOpencodeBinary, type BinarySource, type OpencodeBinary } from "./opencode-binary.js";
export * from "./opencode-events.js";

/** How long one HTTP request to OpenCode may take before we give up on it. */
const REQUEST_TIMEOUT_MS = 15_000;

/**
 * One worker's side of an `opencode serve` process: every request about its directory (and the
 * worktrees its chats work in). The process may serve other workers' directories as well; this
 * object only ever names its own.
 */
export class OpencodeServer {
  /** Directories other than the worker's that its sessions work in (worktrees), seen in requests or events. */
  private readonly directories = new Set<string>();
  /** Where each session not in the worker's directory works, for calls that do not say (an abort from the runtime). */
  private readonly sessionDirectories = new Map<string, string>();

  constructor(
    private readonly http: OpencodeHttp,
    /** The worker's own directory. */
    readonly home: string,
  ) {}

  /** A directory other than its own that one of the worker's sessions works in (a worktree, seen in an event). */
  noteDirectory(directory: string): void {
    if (directory !== this.home) this.directories.add(directory);
  }

  private directoryOf(sessionId: string, given?: string | null): string | null {
    if (given) {
      this.directories.add(given);
      this.sessionDirectories.set(sessionId, given);
      return given;
    }
    return this.sessionDirectories.get(sessionId) ?? null;
  }

  async listModels(): Promise<OpencodeModel[]> {
    const response = await this.get<{ providers?: any[]; default?: Record<string, string> }>(
      "/config/providers",
      null,
      {},
      AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    );
    const data = response.data;
    if (!data?.providers) throw new Error(`listing models failed (${response.status})`);
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

  /** Ids of the worker's sessions that are busy now, in its directory and its worktrees. */
  async busySessions(): Promise<string[]> {
    const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const lists = await Promise.all(
      [undefined, ...this.directories].map(async (directory) => {
        const response = await this.get<Record<string, OpencodeSessionStatus>>("/session/status", directory, {}, signal);
        if (!response.data) throw new Error(`reading session states failed (${response.status})`);
        return Object.entries(response.data)
          .filter(([, status]) => status.type !== "idle")
          .map(([id]) => id);
      }),
    );
    return [...new Set(lists.flat())];
  }

  async abort(sessionId: string, timeoutMs = REQUEST_TIMEOUT_MS, directory?: string | null): Promise<void> {
    await this.post(`/session/${segment(sessionId)}/abort`, this.directoryOf(sessionId, directory), undefined, AbortSignal.timeout(timeoutMs));
  }

  /**
   * Creates a session; giving a title spares OpenCode a title request to the model. A `directory`
   * other than the worker's (a worktree) becomes the session's: OpenCode runs its tools there.
   */
  async createSession(title: string, directory?: string | null): Promise<string> {
    const response = await this.post<{ id?: string }>("/session", directory, { title }, AbortSignal.timeout(REQUEST_TIMEOUT_MS));
    const id = response.data?.id;
    if (!id) throw new Error(`creating a session failed (${response.status})`);
    this.directoryOf(id, directory);
    return id;
  }

  async sessionExists(sessionId: string): Promise<boolean> {
    const response = await this.get(`/session/${segment(sessionId)}`, null, {}, AbortSignal.timeout(REQUEST_TIMEOUT_MS));
    if (response.data) return true;
    if (response.status === 404) return false;
    throw new Error(`looking up session ${sessionId} failed (${response.status})`);
  }

  /** A session's latest `limit` messages (all without one) and their parts, oldest first. */
  async sessionMessages(sessionId: string, limit?: number): Promise<OpencodeMessageWithParts[]> {
    const response = await this.get<{ info: unknown; parts: unknown[] }[]>(
      `/session/${segment(sessionId)}/message`,
      null,
      { limit: limit || undefined },
      AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    );
    const data = response.data;
    if (!data) throw new Error(`reading the messages of session ${sessionId} failed (${response.status})`);
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
        const where = directory ?? this.home;
        const [permissions, questions] = await Promise.all([
          this.get<Record<string, any>[]>("/permission", directory, {}, signal),
          this.get<Record<string, any>[]>("/question", directory, {}, signal),
        ]);
        if (!permissions.data || !questions.data) throw new Error("listing pending requests failed");
        return [
          ...permissions.data.map((properties) => normalizeEvent({ type: "permission.asked", properties }, where)),
          ...questions.data.map((properties) => normalizeEvent({ type: "question.asked", properties }, where)),
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
    const where = this.directoryOf(sessionId, directory);
    const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const listed = await this.get<Array<{ info: { id: string; role: string } }>>(`/session/${segment(sessionId)}/message`, where, {}, signal);
    const messages = listed.data;
    if (!messages) throw new Error(`reading the messages of session ${sessionId} failed (${listed.status})`);
    const files = new Map<string, OpencodeFileDiff>();
    for (const { info } of messages.filter((m) => m.info.role === "user")) {
      const response = await this.get<Array<{ file?: string; patch?: string; additions?: number; deletions?: number; status?: string }>>(
        `/session/${segment(sessionId)}/diff`,
        where,
        { messageID: info.id },
        signal,
      );
      const data = response.data;
      if (!data) throw new Error(`reading the diff of session ${sessionId} failed (${response.status})`);
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
    await this.http.request("PATCH", `/session/${segment(sessionId)}`, this.home, { body: { title }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  }

  /** Queues a prompt; the reply arrives as events. */
  async prompt(sessionId: string, text: string, model: { providerId: string; modelId: string } | null, directory?: string | null): Promise<void> {
    const response = await this.post(
      `/session/${segment(sessionId)}/prompt_async`,
      this.directoryOf(sessionId, directory),
      { parts: [{ type: "text", text }], ...(model ? { model: { providerID: model.providerId, modelID: model.modelId } } : {}) },
      AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    );
    if (response.status < 200 || response.status >= 300) throw new Error(`sending the prompt failed (${response.status})`);
  }

  async replyPermission(requestId: string, reply: "once" | "always" | "reject", directory?: string | null): Promise<void> {
    const response = await this.post(`/permission/${segment(requestId)}/reply`, directory, { reply }, AbortSignal.timeout(REQUEST_TIMEOUT_MS));
    if (response.error) throw new Error(`answering permission ${requestId} failed: ${JSON.stringify(response.error)}`);
  }

  /** Answers a question request; `answers` holds one list of chosen labels (or free text) per question. */
  async replyQuestion(requestId: string, answers: string[][], directory?: string | null): Promise<void> {
    const response = await this.post(`/question/${segment(requestId)}/reply`, directory, { answers }, AbortSignal.timeout(REQUEST_TIMEOUT_MS));
    if (response.error) throw new Error(`answering question ${requestId} failed: ${JSON.stringify(response.error)}`);
  }

  async rejectQuestion(requestId: string, directory?: string | null): Promise<void> {
    const response = await this.post(`/question/${segment(requestId)}/reject`, directory, undefined, AbortSignal.timeout(REQUEST_TIMEOUT_MS));
    if (response.error) throw new Error(`dismissing question ${requestId} failed: ${JSON.stringify(response.error)}`);
  }

  /**
   * Asks OpenCode to release the instances of the worker's directory and its worktrees: the polite
   * step before the process stops, and all a stop does when the process serves other workers too.
   */
  async dispose(timeoutMs = REQUEST_TIMEOUT_MS): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs);
    await Promise.allSettled([undefined, ...this.directories].map((directory) => this.post("/instance/dispose", directory, undefined, signal)));
  }

  /**
   * A GET about `directory` (the worker's own when not given): as the SDK sends it, named in
   * `?directory=` as well as in the header.
   */
  private get<T>(path: string, directory: string | null | undefined, query: Record<string, string | number | undefined>, signal: AbortSignal) {
    const where = directory || this.home;
    return this.http.request<T>("GET", path, where, { query, signal });
  }

  /** A POST about `directory`: named in the header, and in `?directory=` when it is not the worker's own (a worktree), as the SDK sends it. */
  private post<T = unknown>(path: string, directory: string | null | undefined, body: unknown, signal: AbortSignal): Promise<OpencodeResponse<T>> {
    return this.http.request<T>("POST", path, this.home, { query: { directory: directory || undefined }, body, signal });
  }
}

/** An id in a route's path. */
function segment(id: string): string {
  return encodeURIComponent(id);
}
