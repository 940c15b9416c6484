// Styled lines, wrapped to a width by us rather than by Ink, so the TUI always knows how many
// rows a piece of text takes. This is also the TUI's print boundary: text becomes lines only
// through wrap, cutLine and truncate, which pass it through the sanitizer (terminal/sanitize.ts),
// so a reply, a tool's output or another user's text can never carry an escape sequence to the terminal.
import { sanitizeInline } from "../../terminal/sanitize.js";

export interface Segment {
  text: string;
  color?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  /** Drawn inverted: a mark (the message a search found). */
  inverse?: boolean;
}

export type Line = Segment[];

/**
 * Appends `items` to `target`. Not `target.push(...items)`: that passes every item as an argument
 * on the stack, and the lines of one long reply (a few hundred thousand) overflow it.
 */
export function appendAll<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item);
}

/** Columns a character takes: 2 for wide East Asian characters and most emoji, else 1. */
export function charWidth(char: string): number {
  const code = char.codePointAt(0)!;
  if (code < 0x1100) return 1;
  if (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

export function textWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char);
  return width;
}

/** Cuts a string to at most `width` columns. */
export function truncate(raw: string, width: number): string {
  const text = sanitizeInline(raw);
  if (textWidth(text) <= width) return text;
  let out = "";
  let used = 0;
  for (const char of text) {
    const w = charWidth(char);
    if (used + w > Math.max(0, width - 1)) break;
    out += char;
    used += w;
  }
  return `${out}…`;
}

/**
 * Wraps styled segments into lines of at most `width` columns, breaking at spaces where it can
 * and inside words where it must. `indent` prefixes every line after the first (hanging indent).
 */
export function wrap(segments: Segment[], width: number, indent: Segment[] = []): Line[] {
  const lines: Line[] = [];
  const indentWidth = indent.reduce((n, s) => n + textWidth(s.text), 0);
  let line: Line = [];
  let used = 0;
  /** Columns at which this line's own text starts: 0 on the first line, the indent after. */
  let start = 0;
  const push = (segment: Segment, text: string) => {
    const last = line.at(-1);
    if (
      last &&
      last.color === segment.color &&
      last.bold === segment.bold &&
      last.dim === segment.dim &&
      last.italic === segment.italic &&
      last.inverse === segment.inverse
    )
      last.text += text;
    else line.push({ ...segment, text });
    used += textWidth(text);
  };
  const newLine = () => {
    lines.push(line);
    line = indent.map((s) => ({ ...s }));
    used = indentWidth;
    start = indentWidth;
  };
  const room = Math.max(1, width);
  for (const segment of segments) {
    for (const token of sanitizeInline(segment.text).split(/(\s+)/)) {
      if (token === "") continue;
      const tokenWidth = textWidth(token);
      if (/^\s+$/.test(token)) {
        if (used > start && used + tokenWidth <= room) push(segment, token);
        continue;
      }
      if (used + tokenWidth > room && used > start) newLine();
      if (tokenWidth <= room - used) {
        push(segment, token);
        continue;
      }
      for (const char of token) {
        if (used + charWidth(char) > room) newLine();
        push(segment, char);
      }
    }
  }
  lines.push(line);
  return lines;
}

/** A line of plain text in one style, cut (not wrapped) to the width: for code and tables. */
export function cutLine(text: string, width: number, style: Omit<Segment, "text"> = {}): Line {
  return [{ ...style, text: truncate(text.replace(/\t/g, "  "), width) }]; // truncate sanitizes
}

/** A styled line cut (not wrapped) to `width` columns, "…" where it was cut. Sanitizes each segment's text. */
export function cutSegments(line: Line, width: number): Line {
  const out: Line = [];
  const total = line.reduce((n, s) => n + textWidth(sanitizeInline(s.text.replace(/\t/g, "  "))), 0);
  const room = total <= width ? width : Math.max(0, width - 1);
  let used = 0;
  for (const segment of line) {
    let text = "";
    for (const char of sanitizeInline(segment.text.replace(/\t/g, "  "))) {
      const w = charWidth(char);
      if (used + w > room) break;
      text += char;
      used += w;
    }
    if (text) out.push({ ...segment, text });
    if (used >= room && total > width) break;
  }
  if (total > width) out.push({ ...(line.at(-1) ?? {}), text: "…" });
  return out;
}
