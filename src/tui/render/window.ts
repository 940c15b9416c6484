// The part of a long transcript that is on screen. The app owns the screen and scrolls its own
// transcript, so it draws only the rows that fit, counted from the end (or from a scroll
// position), and never wraps blocks that are off screen. Settled blocks are wrapped once per width.
import type { Block } from "./blocks.js";
import type { Line } from "./lines.js";

/** Wrapped lines of settled blocks, by block id; cleared when the width or the render options change. */
export class LineCache {
  private lines = new Map<string, Line[]>();
  private key = "";

  linesOf(block: Block, width: number, optionsKey: string): Line[] {
    const key = `${width}|${optionsKey}`;
    if (key !== this.key) {
      this.lines.clear();
      this.key = key;
    }
    if (!block.final) return block.lines(width);
    let lines = this.lines.get(block.id);
    if (!lines) {
      lines = block.lines(width);
      this.lines.set(block.id, lines);
    }
    return lines;
  }
}

export interface TranscriptWindow {
  lines: Line[];
  /** Rows of the transcript above the window (0: its start is on screen). */
  above: number | "more";
  /** Rows below the window: how far the view is scrolled up from the end. */
  below: number;
}

/**
 * The `height` rows that end `scroll` rows before the end of the transcript. Walks the blocks
 * from the end and stops once it has enough, so a long chat costs what is visible.
 */
export function transcriptWindow(blocks: Block[], height: number, scroll: number, lines: (block: Block) => Line[]): TranscriptWindow {
  const want = height + Math.max(0, scroll);
  const tail: Line[][] = [];
  let count = 0;
  let index = blocks.length - 1;
  for (; index >= 0 && count < want; index--) {
    const blockLines = lines(blocks[index]!);
    tail.push(blockLines);
    count += blockLines.length;
  }
  const all = tail.reverse().flat();
  const below = Math.min(Math.max(0, scroll), Math.max(0, all.length - height));
  const end = all.length - below;
  const start = Math.max(0, end - height);
  const above = index >= 0 ? "more" : start;
  return { lines: all.slice(start, end), above, below };
}
