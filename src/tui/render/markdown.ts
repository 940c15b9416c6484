// Light markdown for replies: headings, lists, quotes, code blocks kept monospace and unwrapped,
// inline `code` and **bold**. Also where a reply can be split into paragraphs that will not change.
import { cutLine, wrap, type Line, type Segment } from "./lines.js";

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

/** Renders markdown into lines of at most `width` columns. */
export function markdownLines(text: string, width: number): Line[] {
  const lines: Line[] = [];
  let inCode = false;
  for (const raw of text.replace(/\r/g, "").split("\n")) {
    if (/^\s*```/.test(raw)) {
      inCode = !inCode;
      lines.push(cutLine(raw.trim(), width, { dim: true }));
      continue;
    }
    if (inCode) {
      lines.push(cutLine(`  ${raw}`, width, { color: "cyan" }));
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(raw);
    if (heading) {
      lines.push(...wrap(inline(heading[2]!, { bold: true, color: heading[1]!.length <= 2 ? "magenta" : undefined }), width));
      continue;
    }
    const bullet = /^(\s*)[-*+]\s+(.*)$/.exec(raw);
    if (bullet) {
      const pad = " ".repeat(Math.min(bullet[1]!.length, 8));
      lines.push(...wrap([{ text: `${pad}• ` }, ...inline(bullet[2]!)], width, [{ text: `${pad}  ` }]));
      continue;
    }
    const numbered = /^(\s*)(\d+[.)])\s+(.*)$/.exec(raw);
    if (numbered) {
      const pad = " ".repeat(Math.min(numbered[1]!.length, 8));
      lines.push(...wrap([{ text: `${pad}${numbered[2]} ` }, ...inline(numbered[3]!)], width, [{ text: `${pad}${" ".repeat(numbered[2]!.length + 1)}` }]));
      continue;
    }
    const quote = /^>\s?(.*)$/.exec(raw);
    if (quote) {
      lines.push(...wrap([{ text: "│ ", dim: true }, ...inline(quote[1]!, { dim: true })], width, [{ text: "│ ", dim: true }]));
      continue;
    }
    lines.push(...(raw.trim() === "" ? [[]] : wrap(inline(raw), width)));
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
