// Syntax highlighting of fenced code in replies. cli-highlight (highlight.js) is imported the
// first time a fenced block names a language, so the first frame never pays for it; until it has
// loaded, code is drawn plain and `onHighlighterReady` tells the screens to draw again.
// Safety: the code is sanitized before highlighting, and the theme marks tokens with control
// characters the sanitized text cannot contain (\x01 style \x02 … \x03); those marks become our
// segments' colours, and anything else that looks like an escape sequence is dropped. The styled
// lines then go to Ink like any other, so the terminal only ever sees the SGR colours Ink writes.
import { sanitize } from "../../terminal/sanitize.js";
import { noColor } from "../theme.js";
import type { Line, Segment } from "./lines.js";

type Style = Omit<Segment, "text">;
type Highlighter = {
  highlight(code: string, options: { language: string; ignoreIllegals: boolean; theme: Record<string, (s: string) => string> }): string;
  supportsLanguage(name: string): boolean;
};

/** Token classes of highlight.js and how we draw them; every other class is drawn plain. */
const TOKEN_STYLES: Record<string, Style> = {
  keyword: { color: "magenta" },
  built_in: { color: "cyan" },
  type: { color: "cyan" },
  literal: { color: "blue" },
  number: { color: "green" },
  regexp: { color: "red" },
  string: { color: "green" },
  symbol: { color: "green" },
  class: { color: "blue" },
  function: { color: "yellow" },
  title: { color: "blue", bold: true },
  comment: { color: "gray", italic: true },
  doctag: { color: "gray" },
  meta: { color: "gray" },
  "meta-keyword": { color: "magenta" },
  "meta-string": { color: "green" },
  section: { color: "blue", bold: true },
  tag: { color: "gray" },
  name: { color: "blue" },
  attr: { color: "cyan" },
  attribute: { color: "cyan" },
  variable: { color: "red" },
  bullet: { color: "yellow" },
  addition: { color: "green" },
  deletion: { color: "red" },
  "selector-tag": { color: "magenta" },
  "selector-class": { color: "yellow" },
  "selector-id": { color: "blue" },
  "template-variable": { color: "red" },
};

const OPEN = "\x01";
const SEP = "\x02";
const CLOSE = "\x03";

let highlighter: Highlighter | null = null;
let loading = false;
let theme: Record<string, (s: string) => string> = {};
const listeners = new Set<() => void>();
/** Highlighted code by language and text: settled blocks are highlighted once, whatever the width. */
const cache = new Map<string, Line[] | null>();

function load(): void {
  if (loading) return;
  loading = true;
  import("cli-highlight").then(
    (module) => {
      // A CommonJS package: its functions are named exports (its `default` is the highlight function alone).
      const loaded = ("highlight" in module ? module : (module as { default: unknown }).default) as Highlighter & { DEFAULT_THEME?: Record<string, unknown> };
      // Every class of the default theme gets a function, so none falls back to cli-highlight's own (chalk) colours.
      const classes = new Set([...Object.keys(loaded.DEFAULT_THEME ?? {}), ...Object.keys(TOKEN_STYLES)]);
      theme = Object.fromEntries([...classes].map((name) => [name, TOKEN_STYLES[name] ? (s: string) => `${OPEN}${name}${SEP}${s}${CLOSE}` : (s: string) => s]));
      highlighter = loaded;
      cache.clear();
      for (const listener of listeners) listener();
    },
    () => {
      // Not installed or broken: code stays plain.
    },
  );
}

/** Called once the highlighter has loaded; returns the unsubscribe. */
export function onHighlighterReady(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Whether highlighting is on (colours allowed) and loaded: part of a rendering's cache key. */
export function highlighterLoaded(): boolean {
  return highlighter !== null;
}

/** Turns the theme's marks into styled lines; drops anything else that starts with ESC. */
export function markedLines(marked: string, base: Style): Line[] {
  const lines: Line[] = [[]];
  const stack: Style[] = [base];
  let i = 0;
  const push = (text: string) => {
    const style = stack.at(-1)!;
    const line = lines.at(-1)!;
    const last = line.at(-1);
    if (last && last.color === style.color && last.bold === style.bold && last.italic === style.italic && last.dim === style.dim) last.text += text;
    else line.push({ ...style, text });
  };
  while (i < marked.length) {
    const char = marked[i]!;
    if (char === OPEN) {
      const end = marked.indexOf(SEP, i);
      const name = end === -1 ? "" : marked.slice(i + 1, end);
      stack.push({ ...stack.at(-1)!, ...(TOKEN_STYLES[name] ?? {}) });
      i = end === -1 ? marked.length : end + 1;
    } else if (char === CLOSE) {
      if (stack.length > 1) stack.pop();
      i++;
    } else if (char === "\x1b") {
      const sequence = /^\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|.)?/.exec(marked.slice(i))!;
      i += sequence[0].length;
    } else if (char === "\n") {
      lines.push([]);
      i++;
    } else {
      let end = i;
      while (end < marked.length && !"\x01\x02\x03\x1b\n".includes(marked[end]!)) end++;
      const text = marked.slice(i, end).replace(/[\u0000-\u001f\u007f-\u009f]/g, "");
      if (text) push(text);
      i = Math.max(end, i + 1);
    }
  }
  return lines;
}

/**
 * The code's lines, highlighted as `language`, or null when it cannot be yet: colours are off
 * (NO_COLOR), the language is unknown, or the highlighter is still loading (it starts loading now).
 */
export function highlightCode(code: string, language: string, base: Style = {}): Line[] | null {
  if (noColor || !language) return null;
  if (!highlighter) {
    load();
    return null;
  }
  const key = `${language}\n${base.color ?? ""}\n${code}`;
  if (cache.has(key)) return cache.get(key)!;
  let lines: Line[] | null = null;
  try {
    if (highlighter.supportsLanguage(language)) {
      const safe = sanitize(code).replace(/\t/g, "  ");
      lines = markedLines(highlighter.highlight(safe, { language, ignoreIllegals: true, theme }), base);
    }
  } catch {
    lines = null;
  }
  if (cache.size > 500) cache.clear();
  cache.set(key, lines);
  return lines;
}
