// Markdown tables drawn with box characters, each column as wide as its widest cell, and fitted to
// the width: when the table is too wide, the widest columns give up room first and their cells
// end in "…". Cells pass the sanitizer (truncate) like every other string from outside.
import { cutLine, type Line, textWidth, truncate } from "./lines.js";

type Align = "left" | "right" | "center";

/** A row of a pipe table: starts or ends with "|", or has one between cells. */
export function isTableRow(line: string): boolean {
  const t = line.trim();
  return t.includes("|") && (t.startsWith("|") || t.endsWith("|") || /\S\s*\|\s*\S/.test(t));
}

/** The line under a table's header: dashes with optional colons, between pipes. */
export function isTableSeparator(line: string): boolean {
  return /^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$/.test(line) && line.includes("-") && (line.includes("|") || /-{3,}/.test(line));
}

/** A row's cells: split at pipes that are not escaped, inline markup taken off. */
export function tableCells(line: string): string[] {
  let t = line.trim();
  if (t.startsWith("|")) t = t.slice(1);
  if (t.endsWith("|") && !t.endsWith("\\|")) t = t.slice(0, -1);
  return t.split(/(?<!\\)\|/).map((cell) =>
    cell
      .trim()
      .replace(/\\\|/g, "|")
      .replace(/\*\*([^*]+)\*\*/g, "$1")
      .replace(/`([^`]+)`/g, "$1"),
  );
}

function alignments(separator: string): Align[] {
  return tableCells(separator).map((cell) => (cell.startsWith(":") && cell.endsWith(":") ? "center" : cell.endsWith(":") ? "right" : "left"));
}

function pad(text: string, width: number, align: Align): string {
  const room = Math.max(0, width - textWidth(text));
  if (align === "right") return " ".repeat(room) + text;
  if (align === "center") return " ".repeat(Math.floor(room / 2)) + text + " ".repeat(Math.ceil(room / 2));
  return text + " ".repeat(room);
}

/** Column widths that fit in `width` (3 columns of border per column, 1 more at the end). */
export function fitColumns(natural: number[], width: number): number[] {
  const widths = natural.map((w) => Math.max(1, w));
  const room = width - (3 * widths.length + 1);
  let total = widths.reduce((a, b) => a + b, 0);
  while (total > room) {
    const widest = Math.max(...widths);
    if (widest <= 3) break;
    widths[widths.indexOf(widest)] = widest - 1;
    total--;
  }
  return widths;
}

/** The table as lines: a box around header and rows, the header bold. */
export function tableLines(header: string, separator: string, body: string[], width: number): Line[] {
  const rows = [tableCells(header), ...body.map(tableCells)];
  // reduce, not Math.max(...): a table of a hundred thousand rows would overflow the stack.
  const columns = rows.reduce((most, r) => Math.max(most, r.length), 0);
  // More columns than the width can draw even one character each: shown as the text it is.
  if (3 * columns + 1 > width) return [header, separator, ...body].map((raw) => cutLine(raw, width));
  const align = alignments(separator);
  const cells = rows.map((r) => Array.from({ length: columns }, (_, i) => r[i] ?? ""));
  const widths = fitColumns(
    Array.from({ length: columns }, (_, i) => cells.reduce((most, r) => Math.max(most, textWidth(truncate(r[i]!, 1000))), 0)),
    width,
  );
  const rule = (left: string, middle: string, right: string): Line =>
    cutLine(`${left}${widths.map((w) => "─".repeat(w + 2)).join(middle)}${right}`, width, { dim: true });
  const row = (r: string[], bold: boolean): Line => {
    const line: Line = [{ text: "│ ", dim: true }];
    r.forEach((cell, i) => {
      line.push({ text: pad(truncate(cell, widths[i]!), widths[i]!, align[i] ?? "left"), bold });
      line.push({ text: i === r.length - 1 ? " │" : " │ ", dim: true });
    });
    // Still too wide (more columns than the width can hold): cut, as code is.
    return textWidth(line.map((s) => s.text).join("")) > width ? cutLine(line.map((s) => s.text).join(""), width) : line;
  };
  return [rule("┌", "┬", "┐"), row(cells[0]!, true), rule("├", "┼", "┤"), ...cells.slice(1).map((r) => row(r, false)), rule("└", "┴", "┘")];
}
