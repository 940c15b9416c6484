// How deep JSON from outside may nest. JSON.parse's cost grows with nesting far faster than with
// size: 200,000 levels in a 400 KB frame take 30–40 ms to parse (a 1 MB frame of flat text, 1–2 ms),
// time in which the daemon serves nobody else. So every frame from a socket is measured before it
// is parsed, and one nested deeper than any the protocols define is refused unread.

/**
 * Deeper than any frame of the client protocol or the machine link: the deepest is a worker event
 * in a link report (frame, report, event, part, then a tool's input, which the OpenCode adapter
 * keeps to 64 levels). Parsing 100 levels costs microseconds.
 */
export const MAX_FRAME_DEPTH = 100;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/** Whether the quote at `at` is escaped: an odd number of backslashes before it. */
function isEscaped(text: string, at: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
  return backslashes % 2 === 1;
}

/**
 * Whether `text`, read as JSON, opens more than `limit` arrays or objects inside one another.
 * Exact for valid JSON; for text that is not JSON either answer is fine, since JSON.parse refuses
 * it anyway. Strings are skipped with indexOf, so a frame of one long string costs next to nothing.
 */
export function nestedDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = i;
      do {
        end = text.indexOf('"', end + 1);
        if (end < 0) return false; // an unterminated string: not JSON
      } while (isEscaped(text, end));
      i = end;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

/** A frame nested too deep to parse; its message is the one the sender is told. */
export class TooDeepError extends Error {
  constructor(limit = MAX_FRAME_DEPTH) {
    super(`frame is nested deeper than ${limit} levels`);
    this.name = "TooDeepError";
  }
}

/** JSON.parse for a frame from a socket: refuses (TooDeepError) a frame nested deeper than MAX_FRAME_DEPTH without parsing it. */
export function parseFrameText(text: string): unknown {
  if (nestedDeeperThan(text, MAX_FRAME_DEPTH)) throw new TooDeepError();
  return JSON.parse(text);
}

/** What stands in for a value nested deeper than a sender may send. */
export const TOO_DEEP_MARKER = "[nested too deep]";

/**
 * A copy of `value` in which what lies deeper than `limit` levels of arrays and objects is replaced
 * by TOO_DEEP_MARKER: what a sender does with its own data (a model's tool input) before sending it
 * to a receiver that refuses deeper frames. Recursive, but never deeper than `limit`.
 */
export function capDepth(value: unknown, limit: number): unknown {
  if (value === null || typeof value !== "object") return value;
  if (limit <= 0) return TOO_DEEP_MARKER;
  if (Array.isArray(value)) return value.map((item) => capDepth(item, limit - 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = capDepth(item, limit - 1);
  return copy;
}
