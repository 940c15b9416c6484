// Light markdown for replies: headings, nested lists, quotes, tables, code blocks kept monospace and
// unwrapped (highlighted when they name a language), inline `code` and **bold**. Also where a reply can be split into paragraphs that will not change.
import { highlightCode } from "./highlight.js";
import { appendAll, cutLine, cutSegments, wrap, type Line, type Segment } from "./lines.js";
import { isTableRow, isTableSeparator, tableLines } from "./table.js";

/** Inline styles within one line of prose. */
export function inline(text: string, base: Omit<Segment, "text"> = {}): Segment[] {
  const segments: Segment[] = [];
  const pattern = /(`[^`]+`|\*\*[^*]+\*\*)/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index! > last) segments.push({ ...base, text: text.slice(last, match.index) });
    const token = match[0];
    if (token.startsWith("`")) segments.push({ ...base, text: token.slice(1, -1), color: "yellow" });
    else segments.push({ ...base, text: token.slice(2, -2), bold: true });
    last = match.index! + token.length;
  }
  if (last < text.length) segments.push({ ...base, text: text.slice(last) });
  return segments;
}

/** The language a fence names ("```ts" → "ts"), or "". */
function fenceLanguage(fence: string): string {
  return /^\s*```+\s*([\w+#.-]*)/.exec(fence)?.[1] ?? "";
}

/** A fenced block's lines: highlighted when its language is known and the highlighter is loaded, else plain cyan. */
function codeLines(code: string[], language: string, width: number): Line[] {
  const highlighted = highlightCode(code.join("\n"), language, { color: "cyan" });
  return code.map((raw, i) => {
    const line = highlighted?.[i];
    return line ? cutSegments([{ text: "  " }, ...line], width) : cutLine(`  ${raw}`, width, { color: "cyan" });
  });
}

const LIST_GLYPHS = ["•", "◦", "▪"];

/** Wrapped text behind `pad` columns of indentation on every line (wrap itself drops a line's leading spaces), `hang` more after the first. */
function indented(pad: number, segments: Segment[], width: number, hang = 0): Line[] {
  const lines = wrap(segments, Math.max(4, width - pad), hang > 0 ? [{ text: " ".repeat(hang) }] : []);
  return pad > 0 ? lines.map((line) => [{ text: " ".repeat(pad) }, ...line]) : lines;
}

/** Renders markdown into lines of at most `width` columns. */
export function markdownLines(text: string, width: number): Line[] {
  const lines: Line[] = [];
  const rows = text.replace(/\r/g, "").split("\n");
  /** Indentation of the list items we are inside, outermost first: an item's depth is its place here. */
  const listIndents: number[] = [];
  /** Where the text of the last list item starts, for the lines that continue it. */
  let itemTextAt = 0;
  for (let i = 0; i < rows.length; i++) {
    const raw = rows[i]!;
    if (/^\s*```/.test(raw)) {
      const language = fenceLanguage(raw);
      let end = i + 1;
      while (end < rows.length && !/^\s*```/.test(rows[end]!)) end++;
      lines.push(cutLine(raw.trim(), width, { dim: true }));
      appendAll(lines, codeLines(rows.slice(i + 1, end), language, width));
      if (end < rows.length) lines.push(cutLine(rows[end]!.trim(), width, { dim: true }));
      i = end;
      continue;
    }
    if (isTableRow(raw) && i + 1 < rows.length && isTableSeparator(rows[i + 1]!)) {
      let end = i + 2;
      while (end < rows.length && isTableRow(rows[end]!)) end++;
      appendAll(lines, tableLines(rows[i]!, rows[i + 1]!, rows.slice(i + 2, end), width));
      i = end - 1;
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(raw);
    if (heading) {
      listIndents.length = 0;
      appendAll(lines, wrap(inline(heading[2]!, { bold: true, color: heading[1]!.length <= 2 ? "magenta" : undefined }), width));
      continue;
    }
    const item = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/.exec(raw);
    if (item) {
      const indent = item[1]!.replace(/\t/g, "    ").length;
      while (listIndents.length > 0 && listIndents.at(-1)! > indent) listIndents.pop();
      if (listIndents.length === 0 || listIndents.at(-1)! < indent) listIndents.push(indent);
      // A list that starts indented (its parent was in an earlier paragraph) still shows its depth.
      const depth = listIndents.length - 1 + (listIndents[0]! > 0 && listIndents.length === 1 ? Math.min(3, Math.ceil(indent / 3)) : 0);
      const pad = 2 * Math.min(depth, 6);
      const marker = /^\d/.test(item[2]!) ? item[2]! : LIST_GLYPHS[depth % LIST_GLYPHS.length]!;
      itemTextAt = pad + marker.length + 1;
      appendAll(lines, indented(pad, [{ text: `${marker} ` }, ...inline(item[3]!)], width, marker.length + 1));
      continue;
    }
    const quote = /^>\s?(.*)$/.exec(raw);
    if (quote) {
      appendAll(lines, wrap([{ text: "│ ", dim: true }, ...inline(quote[1]!, { dim: true })], width, [{ text: "│ ", dim: true }]));
      continue;
    }
    if (raw.trim() === "") {
      lines.push([]);
      continue;
    }
    // An indented line inside a list continues its item; elsewhere its indentation is kept.
    const leading = raw.length - raw.trimStart().length;
    if (leading > 0 && listIndents.length > 0) {
      appendAll(lines, indented(itemTextAt, inline(raw.trim()), width));
      continue;
    }
    listIndents.length = 0;
    appendAll(lines, indented(Math.min(leading, 12), inline(raw.trim()), width));
  }
  return lines;
}

/**
 * Splits text into paragraphs at blank lines that are not inside a code fence. Every paragraph
 * but the last is settled: more text appended later cannot change it.
 */
export function splitParagraphs(text: string): string[] {
  const paragraphs: string[] = [];
  let current: string[] = [];
  let inCode = false;
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    if (/^\s*```/.test(line)) inCode = !inCode;
    current.push(line);
    // Settled only once a blank line has fully arrived after it ("\n\n"), not just a newline.
    const blankNext = i + 2 < lines.length && lines[i + 1]!.trim() === "";
    if (!inCode && line.trim() !== "" && blankNext) {
      paragraphs.push(current.join("\n"));
      current = [];
    } else if (!inCode && line.trim() === "" && current.every((l) => l.trim() === "")) {
      current = []; // blank lines between paragraphs belong to neither
    }
  });
  paragraphs.push(current.join("\n"));
  return paragraphs.filter((p, i) => p.trim() !== "" || i === paragraphs.length - 1);
}
