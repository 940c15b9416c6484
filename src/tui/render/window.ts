// The part of a long transcript that is on screen. The app owns the screen and scrolls its own
// transcript, so it draws only the rows that fit, counted from the end (or from a scroll
// position), and never wraps blocks that are off screen. Settled blocks are wrapped once per width.
import type { Block } from "./blocks.js";
import { highlighterLoaded } from "./highlight.js";
import type { Line } from "./lines.js";

/** Wrapped lines of settled blocks, by block id; cleared when the width or the render options change. */
export class LineCache {
  private lines = new Map<string, Line[]>();
  private key = "";

  linesOf(block: Block, width: number, optionsKey: string): Line[] {
    // Code drawn plain while the highlighter loaded is drawn again once it has.
    const key = `${width}|${optionsKey}|${highlighterLoaded()}`;
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
  /** For each line shown, the index of its block in `blocks`. */
  owners: number[];
}

/**
 * The `height` rows that end `scroll` rows before the end of the transcript. Walks the blocks
 * from the end and stops once it has enough, so a long chat costs what is visible.
 */
export function transcriptWindow(blocks: Block[], height: number, scroll: number, lines: (block: Block) => Line[]): TranscriptWindow {
  const want = height + Math.max(0, scroll);
  const tail: Line[][] = [];
  const tailOwners: number[][] = [];
  let count = 0;
  let index = blocks.length - 1;
  for (; index >= 0 && count < want; index--) {
    const blockLines = lines(blocks[index]!);
    tail.push(blockLines);
    tailOwners.push(blockLines.map(() => index));
    count += blockLines.length;
  }
  const all = tail.reverse().flat();
  const owners = tailOwners.reverse().flat();
  const below = Math.min(Math.max(0, scroll), Math.max(0, all.length - height));
  const end = all.length - below;
  const start = Math.max(0, end - height);
  const above = index >= 0 ? "more" : start;
  return { lines: all.slice(start, end), above, below, owners: owners.slice(start, end) };
}

/**
 * How far to scroll (rows up from the end) so the first block for which `target` is true starts
 * at the top of a window `height` rows tall; null when no block matches.
 */
export function scrollToBlock(blocks: Block[], height: number, target: (block: Block) => boolean, lines: (block: Block) => Line[]): number | null {
  const at = blocks.findIndex(target);
  if (at === -1) return null;
  let fromTarget = 0;
  for (let i = at; i < blocks.length; i++) fromTarget += lines(blocks[i]!).length;
  return Math.max(0, fromTarget - height);
}
