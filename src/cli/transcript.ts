// Printing chats as text that grows: a transcript printer that, given the messages and the
// streaming reply as they change, prints only what is new, so output never repeats or skips.
// Everything it prints from a chat (replies, reasoning, tools, questions) is sanitized here.
import type { ChatView, MessageView, PartView, RequestView } from "../protocol/api/index.js";
import { formatReplyFooter } from "../terminal/format.js";
import { sanitize } from "../terminal/sanitize.js";
import { sanitizeValue, style } from "./output.js";

type Write = (text: string) => void;

interface PrintedMessage {
  header: boolean;
  footer: boolean;
  /** Per part: how much of its text is printed, and whether its tool line(s) are. */
  parts: Map<string, { textLength: number; started: boolean; finished: boolean }>;
}

export interface PrinterOptions {
  /** Where the reply's text goes. */
  out: Write;
  /** Where everything around it goes (headers, tools, notices); the same as out for a full transcript. */
  aside: Write;
  /** Print user messages and headers (watch, show); off for `send --wait`, which prints only the reply. */
  headers: boolean;
  /** Only this message's reply (send --wait). */
  replyTo?: string;
  toolOutputLines?: number;
}

const time = (at: number) => new Date(at).toLocaleTimeString();

/** One line about a request, from a sanitized view (sanitized here when it is not). */
export function describeRequest(raw: RequestView): string {
  const request = sanitizeValue(raw);
  if (request.kind === "permission" && request.permission) {
    const what = request.permission.detail ?? request.permission.patterns.join(", ");
    return `permission for ${request.permission.name}${what ? `: ${what}` : ""} — answer: ocfleet chat permit ${request.id} once|always|reject`;
  }
  const questions = (request.questions ?? [])
    .map((q, i) => `${i + 1}. ${q.question} [${q.options.map((o, n) => `${n + 1}) ${o.label}`).join("  ")}]`)
    .join(" ");
  return `question: ${questions} — answer: ocfleet chat answer ${request.id} <choice>…`;
}

export function footerFor(message: MessageView): string {
  const footer = formatReplyFooter(message);
  const paint = footer.tone === "red" ? style.red : footer.tone === "yellow" ? style.yellow : style.dim;
  return paint(`── ${footer.text} ──`);
}

export class TranscriptPrinter {
  private readonly printed = new Map<string, PrintedMessage>();
  /** A text part printed without its final newline yet. */
  private openLine = false;
  private readonly noticed = new Set<string>();

  constructor(private readonly options: PrinterOptions) {}

  /** Prints whatever is new in these messages (final ones, then the one streaming). */
  update(messages: MessageView[], stream: MessageView | null): void {
    const final = new Set(messages.map((m) => m.id));
    const all = stream && !final.has(stream.id) ? [...messages, stream] : messages;
    for (const message of all) {
      if (this.options.replyTo && message.replyTo !== this.options.replyTo) continue;
      if (!this.options.headers && message.role === "user") continue;
      this.printMessage(message, sanitizeValue(message));
    }
  }

  /** Retry states and pending requests, each printed once. */
  notice(raw: ChatView): void {
    const chat = sanitizeValue(raw);
    if (chat.retry)
      this.noticeOnce(
        `retry ${chat.retry.attempt}`,
        style.yellow(`↻ provider failed; OpenCode retries (attempt ${chat.retry.attempt}): ${chat.retry.message}`),
      );
    for (const request of chat.requests) this.noticeOnce(request.id, style.yellow(`⏸ ${describeRequest(request)}`));
  }

  /** Whether the reply to `replyTo` has ended, and how. */
  static outcome(messages: MessageView[], replyTo: string): MessageView | null {
    return messages.find((m) => m.replyTo === replyTo && m.status !== "streaming") ?? null;
  }

  private noticeOnce(key: string, line: string): void {
    if (this.noticed.has(key)) return;
    this.noticed.add(key);
    this.aside(`${line}\n`);
  }

  private aside(text: string): void {
    this.endLine();
    this.options.aside(text);
  }

  private endLine(): void {
    if (!this.openLine) return;
    this.options.out("\n");
    this.openLine = false;
  }

  /** `raw` measures how much text is printed (sanitizing may change lengths); `message` is what is shown. */
  private printMessage(raw: MessageView, message: MessageView): void {
    let state = this.printed.get(message.id);
    if (!state) this.printed.set(message.id, (state = { header: false, footer: false, parts: new Map() }));
    if (state.footer) return;
    if (!state.header && this.options.headers) {
      const who = message.role === "user" ? style.bold("you") : style.bold("assistant");
      this.aside(
        style.dim(`── ${who}${style.dim(` · ${time(message.createdAt)}${message.role === "user" && message.model ? ` · ${message.model}` : ""}`)} ──`) + "\n",
      );
    }
    state.header = true;
    const done = message.status !== "streaming";
    message.parts.forEach((part, i) => this.printPart(state!, part, raw.parts[i]!, done || i < message.parts.length - 1));
    if (done) {
      this.endLine();
      if (message.role === "assistant") this.aside(`${footerFor(message)}\n`);
      state.footer = true;
    }
  }

  private printPart(state: PrintedMessage, part: PartView, rawPart: PartView, complete: boolean): void {
    let printed = state.parts.get(part.id);
    if (!printed) state.parts.set(part.id, (printed = { textLength: 0, started: false, finished: false }));
    if (printed.finished) return;
    switch (part.kind) {
      case "reasoning":
        // Thinking is context, not the answer: shown dimmed, whole, once it is complete.
        if (complete) {
          if (part.text.trim()) this.aside(style.dim(`💭 ${part.text.trim()}`) + "\n");
          printed.finished = true;
        }
        return;
      case "text": {
        // Sliced from the raw text and sanitized after, so a CR and its LF in two deltas stay one newline.
        const text = rawPart.kind === "text" ? rawPart.text : part.text;
        const fresh = text.slice(printed.textLength);
        if (fresh) {
          this.options.out(sanitize(fresh));
          this.openLine = !text.endsWith("\n");
          printed.textLength = text.length;
        }
        if (complete) {
          this.endLine();
          printed.finished = true;
        }
        return;
      }
      case "tool": {
        const what =
          part.title ?? (typeof part.input.command === "string" ? part.input.command : typeof part.input.filePath === "string" ? part.input.filePath : "");
        if (!printed.started && part.status !== "pending") {
          this.aside(style.cyan(`⚙ ${part.tool}${what ? ` ${what}` : ""}`) + "\n");
          printed.started = true;
        }
        if (part.status === "completed" || part.status === "error") {
          if (!printed.started) this.aside(style.cyan(`⚙ ${part.tool}${what ? ` ${what}` : ""}`) + "\n");
          const mark = part.status === "completed" ? style.green("  ✓ done") : style.red(`  ✗ ${part.error ?? "failed"}`);
          const lines = (part.output ?? "").trimEnd().split("\n").filter(Boolean);
          const limit = this.options.toolOutputLines ?? 8;
          const shown = lines.slice(0, limit).map((l) => style.dim(`    ${l}`));
          if (lines.length > limit) shown.push(style.dim(`    … ${lines.length - limit} more line(s)`));
          this.aside([mark, ...shown].join("\n") + "\n");
          printed.finished = true;
        }
        return;
      }
      case "patch":
        this.aside(style.cyan(`✎ changed ${part.files.join(", ")}`) + "\n");
        printed.finished = true;
        return;
      case "file":
        this.aside(style.cyan(`📎 ${part.filename ?? "file"}${part.mime ? ` (${part.mime})` : ""}`) + "\n");
        printed.finished = true;
        return;
    }
  }
}
