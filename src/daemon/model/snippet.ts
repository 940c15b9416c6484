// Snippets of long text for search hits. FTS5's snippet() scores every fragment against every
// match, so its time grows with the square of the matches in one part: measured here, 16 KB of a
// repeated word 53 ms, 64 KB 0.58 s, a reply of 9 MB 333 s; highlight() is no better (48 s). The
// daemon answers nobody meanwhile. So only a part of at most FTS_SNIPPET_MAX_CHARS gets FTS5's
// snippet; a longer one gets this: a window of about sixteen words around the first word the
// query asks for, found by one regular expression over the text's first LONG_SNIPPET_READ_CHARS,
// its matches marked as snippet() marks them. It is linear; what it gives up is FTS5's choice of
// the fragment with the most words, and words found only by folding their diacritics (then the
// text's start is shown, unmarked).

/** The longest part FTS5's snippet() is asked for: 1 ms at worst (every word a match). */
export const FTS_SNIPPET_MAX_CHARS = 2048;
/** How much of a longer part is read for its snippet. */
export const LONG_SNIPPET_READ_CHARS = 256 * 1024;
/** Characters shown before the first match, and in all. */
const BEFORE = 60;
const WINDOW = 160;

const WORD_CHAR = "[\\p{L}\\p{N}]";

/** A regular expression for any of the words (FTS5's unicode61 tokens: runs of letters and digits), case-folded. */
function wordsPattern(words: ReadonlyArray<{ text: string; prefix: boolean }>): RegExp | null {
  const alternatives = new Set<string>();
  for (const word of words) {
    const tokens = word.text.match(new RegExp(`${WORD_CHAR}+`, "gu")) ?? [];
    tokens.forEach((token, i) => {
      const escaped = token.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      alternatives.add(word.prefix && i === tokens.length - 1 ? `${escaped}${WORD_CHAR}*` : escaped);
    });
  }
  if (alternatives.size === 0) return null;
  return new RegExp(`(?<!${WORD_CHAR})(?:${[...alternatives].join("|")})(?!${WORD_CHAR})`, "giu");
}

/** A snippet of `text` around the first of `words`, the matches between `open` and `close`. */
export function longTextSnippet(text: string, words: ReadonlyArray<{ text: string; prefix: boolean }>, open: string, close: string): string {
  const pattern = wordsPattern(words);
  const first = pattern?.exec(text);
  let start = first ? Math.max(0, first.index - BEFORE) : 0;
  let end = Math.min(text.length, start + WINDOW);
  // At word boundaries: the window starts after a space and ends before one, unless at the ends.
  if (start > 0) start = nextSpace(text, start, first?.index ?? start);
  if (end < text.length) end = Math.max(lastSpace(text, end, start), first ? first.index + first[0].length : start);
  let snippet = "";
  let at = start;
  if (pattern) {
    pattern.lastIndex = start;
    for (let match = pattern.exec(text); match && match.index + match[0].length <= end; match = pattern.exec(text)) {
      snippet += text.slice(at, match.index) + open + match[0] + close;
      at = match.index + match[0].length;
    }
  }
  snippet += text.slice(at, end);
  return `${start > 0 ? "…" : ""}${snippet.replace(/\s+/g, " ")}${end < text.length ? "…" : ""}`;
}

function nextSpace(text: string, from: number, limit: number): number {
  const space = text.slice(from, limit).search(/\s/);
  return space < 0 ? from : from + space + 1;
}

function lastSpace(text: string, before: number, limit: number): number {
  const window = text.slice(limit, before);
  const space = window.search(/\s\S*$/);
  return space <= 0 ? before : limit + space;
}
