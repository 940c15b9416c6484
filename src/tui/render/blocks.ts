// A transcript as blocks: a message's header, each paragraph of its text, each tool call, its
// footer. A block is final when nothing can change it any more: its lines are wrapped once per
// width and kept. Ids are stable as a reply grows, so nothing is drawn twice.
import type { MessageView, PartView } from "../../protocol/api/index.js";
import { formatReplyFooter } from "../../terminal/format.js";
import { KEYMAP } from "../keys/keymap.js";
import { cutLine, wrap, type Line } from "./lines.js";
import { markdownLines, splitParagraphs } from "./markdown.js";

export interface Block {
  id: string;
  final: boolean;
  lines(width: number): Line[];
  /** A tool call's block: which part, so its whole output can be opened (the pager). */
  tool?: { messageId: string; partId: string };
}

export interface RenderOptions {
  showReasoning: boolean;
  showToolOutput: boolean;
}

const TOOL_OUTPUT_LINES = 12;

function time(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function toolTarget(part: Extract<PartView, { kind: "tool" }>): string {
  if (part.title) return part.title;
  const input = part.input;
  for (const key of ["command", "filePath", "path", "pattern", "url"]) if (typeof input[key] === "string") return input[key] as string;
  return "";
}

const TOOL_STATUS: Record<string, { mark: string; color: string }> = {
  pending: { mark: "…", color: "gray" },
  running: { mark: "◌", color: "yellow" },
  completed: { mark: "✓", color: "green" },
  error: { mark: "✗", color: "red" },
};

function partBlocks(message: MessageView, part: PartView, index: number, lastPart: boolean, options: RenderOptions): Block[] {
  const done = message.status !== "streaming";
  const base = `${message.id}:${part.id}`;
  switch (part.kind) {
    case "text": {
      if (message.role === "user") {
        return [
          {
            id: base,
            final: true,
            lines: (w) =>
              // "›" marks where the message starts; its own lines and indentation are kept.
              part.text
                .split("\n")
                .flatMap((l, row) =>
                  wrap([{ text: l, color: "cyan" }], w - 2, [{ text: "  " }]).map((line, i) => [
                    { text: row === 0 && i === 0 ? "› " : "  ", color: "cyan", bold: true },
                    ...line,
                  ]),
                ),
          },
        ];
      }
      const paragraphs = splitParagraphs(part.text);
      return paragraphs.map((paragraph, i) => ({
        id: `${base}:${i}`,
        // The last paragraph of a reply still streaming can still grow.
        final: done || !lastPart || i < paragraphs.length - 1,
        lines: (w: number) => [...markdownLines(paragraph, w), ...(i < paragraphs.length - 1 || done || !lastPart ? [[]] : [])],
      }));
    }
    case "reasoning": {
      const settled = done || !lastPart;
      return [
        {
          id: base,
          final: settled,
          lines: (w) => {
            const text = part.text.trim();
            if (!options.showReasoning) {
              const count = text ? text.split("\n").length : 0;
              return [
                cutLine(`💭 ${settled ? "thought" : "thinking…"} (${count} line${count === 1 ? "" : "s"}; Ctrl+R shows it)`, w, { dim: true, italic: true }),
              ];
            }
            return [
              [{ text: "💭 ", dim: true }],
              ...text
                .split("\n")
                .flatMap((l) => wrap([{ text: l, dim: true, italic: true }], w - 2, [{ text: "  " }]).map((line) => [{ text: "  " }, ...line])),
            ];
          },
        },
      ];
    }
    case "tool": {
      const status = TOOL_STATUS[part.status] ?? TOOL_STATUS.pending!;
      return [
        {
          id: base,
          final: part.status === "completed" || part.status === "error" || done,
          tool: { messageId: message.id, partId: part.id },
          lines: (w) => {
            const head: Line = [
              { text: `${status.mark} `, color: status.color, bold: true },
              { text: part.tool, bold: true },
              { text: ` ${toolTarget(part)}`, dim: true },
            ];
            const out: Line[] = wrap(head, w, [{ text: "  " }]).slice(0, 2);
            if (part.status === "error" && part.error) out.push(cutLine(`  ${part.error.split("\n")[0]}`, w, { color: "red" }));
            if (options.showToolOutput && part.output) {
              const lines = part.output.replace(/\n$/, "").split("\n");
              for (const line of lines.slice(0, TOOL_OUTPUT_LINES)) out.push(cutLine(`  │ ${line}`, w, { dim: true }));
              if (lines.length > TOOL_OUTPUT_LINES)
                out.push(cutLine(`  │ … ${lines.length - TOOL_OUTPUT_LINES} more lines · ${KEYMAP.toolPager.label} shows all`, w, { dim: true }));
            }
            return out;
          },
        },
      ];
    }
    case "patch":
      return [{ id: base, final: true, lines: (w) => [cutLine(`✎ changed ${part.files.join(", ")}`, w, { color: "blue" })] }];
    case "file":
      return [{ id: base, final: true, lines: (w) => [cutLine(`📎 ${part.filename ?? "file"}${part.mime ? ` (${part.mime})` : ""}`, w, { color: "blue" })] }];
  }
  return [{ id: `${base}:${index}`, final: true, lines: () => [] }];
}

/** The blocks of one message, in order. */
export function messageBlocks(message: MessageView, options: RenderOptions): Block[] {
  const blocks: Block[] = [];
  if (message.role === "assistant") {
    blocks.push({
      id: `${message.id}:head`,
      final: true,
      lines: (w) => [cutLine(`◆ assistant · ${time(message.createdAt)}`, w, { color: "magenta", dim: true })],
    });
  }
  message.parts.forEach((part, i) => blocks.push(...partBlocks(message, part, i, i === message.parts.length - 1, options)));
  if (message.role === "assistant" && message.status !== "streaming") {
    // The same footer the CLI prints (terminal/format.ts), so both front ends say it the same way.
    const footer = formatReplyFooter(message);
    blocks.push({ id: `${message.id}:foot`, final: true, lines: (w) => [cutLine(footer.text, w, { dim: !footer.tone, color: footer.tone }), []] });
  } else if (message.role === "user") {
    blocks.push({ id: `${message.id}:gap`, final: true, lines: () => [[]] });
  }
  return blocks;
}

/**
 * A chat's transcript as blocks, and how many of them (a prefix, in order) are final: those
 * never change again, so their wrapped lines can be kept.
 */
export function splitTranscript(
  messages: MessageView[],
  stream: MessageView | null,
  options: RenderOptions,
  /** Set when older messages were left out: said in the first block, with the command that shows them. */
  earlierOf?: string,
): { all: Block[]; finalCount: number } {
  const ids = new Set(messages.map((m) => m.id));
  const all = [...messages, ...(stream && !ids.has(stream.id) ? [stream] : [])].flatMap((m) => messageBlocks(m, options));
  if (earlierOf) {
    const note = `Older messages are not shown here; all of them: ocfleet chat show ${earlierOf}`;
    all.unshift({ id: "earlier", final: true, lines: (w) => wrap([{ text: note, dim: true }], w) });
  }
  let finalCount = 0;
  while (finalCount < all.length && all[finalCount]!.final) finalCount++;
  return { all, finalCount };
}
