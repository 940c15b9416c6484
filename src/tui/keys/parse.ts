// Turns what the terminal sends into key events. One read may hold many keys (key repeat on a
// busy machine or over ssh delivers "jj", "\x7f\x7f\x7f" or an escape sequence plus text), so
// the reader splits every read into keys; a bracketed paste stays one text event. Ink's own
// parser merges keys we must tell apart (Ctrl+J from Enter, Alt+Enter, Shift+Enter), so we parse here.
export interface KeyEvent {
  /** A named key ("return", "up", "escape", …), or "text" for printable input. */
  name: string;
  /** For "text": the characters (a paste arrives as one event). */
  text: string;
  ctrl: boolean;
  alt: boolean;
  shift: boolean;
}

const key = (name: string, mods: Partial<Pick<KeyEvent, "ctrl" | "alt" | "shift">> = {}): KeyEvent => ({
  name,
  text: "",
  ctrl: mods.ctrl ?? false,
  alt: mods.alt ?? false,
  shift: mods.shift ?? false,
});

const CSI_NAMES: Record<string, string> = {
  A: "up",
  B: "down",
  C: "right",
  D: "left",
  H: "home",
  F: "end",
  Z: "tab",
};

const TILDE_NAMES: Record<string, string> = { "1": "home", "2": "insert", "3": "delete", "4": "end", "5": "pageup", "6": "pagedown", "7": "home", "8": "end" };

/** xterm modifier parameter: 1 + (shift 1, alt 2, ctrl 4). */
function modifiers(param: string | undefined): Partial<KeyEvent> {
  const n = Number(param ?? 1) - 1;
  return { shift: (n & 1) !== 0, alt: (n & 2) !== 0, ctrl: (n & 4) !== 0 };
}

/** One sequence as Ink's input parser delivers it (one key, or a run of printable text). */
export function parseKey(sequence: string): KeyEvent {
  switch (sequence) {
    case "\r":
      return key("return");
    case "\n":
      return key("return", { ctrl: true }); // Ctrl+J, a line feed: our "newline" key
    case "\x1b\r":
    case "\x1b\n":
      return key("return", { alt: true });
    case "\t":
      return key("tab");
    case "\x1b":
    case "\x1b\x1b":
      return key("escape");
    case "\x7f":
    case "\b":
      return key("backspace");
    case "\x1b\x7f":
      return key("backspace", { alt: true });
    case " ":
      return { ...key("text"), text: " " };
  }
  // SGR mouse reports (mode 1006): CSI < button ; column ; row M (press) or m (release). Only the
  // wheel means something to us (buttons 64 and 65); clicks are read and ignored.
  const mouse = /^\x1b\[<(\d+);\d+;\d+[Mm]$/.exec(sequence);
  if (mouse) {
    const button = Number(mouse[1]) & ~(4 | 8 | 16); // without Shift, Alt, Ctrl
    return key(button === 64 ? "wheelup" : button === 65 ? "wheeldown" : "mouse");
  }
  // Kitty keyboard protocol: CSI codepoint ; modifiers u
  const kitty = /^\x1b\[(\d+)(?:;(\d+))?u$/.exec(sequence);
  if (kitty) {
    const code = Number(kitty[1]);
    const mods = modifiers(kitty[2]);
    if (code === 13) return key("return", mods);
    if (code === 27) return key("escape", mods);
    if (code === 9) return key("tab", mods);
    if (code === 127) return key("backspace", mods);
    const char = String.fromCodePoint(code);
    return mods.ctrl || mods.alt ? { ...key(char.toLowerCase(), mods) } : { ...key("text", mods), text: char };
  }
  // xterm's modifyOtherKeys (and tmux's extended keys): CSI 27 ; modifiers ; codepoint ~
  const other = /^\x1b\[27;(\d+);(\d+)~$/.exec(sequence);
  if (other) return parseKey(`\x1b[${other[2]};${other[1]}u`);
  const csi = /^\x1b\[(?:(\d+)(?:;(\d+))?)?([A-DFHZ~])$/.exec(sequence) ?? /^\x1bO()()([A-DFH])$/.exec(sequence);
  if (csi) {
    const [, first, second, final] = csi;
    if (final === "~") return key(TILDE_NAMES[first ?? ""] ?? "unknown", modifiers(second));
    const mods = modifiers(second ?? (first && first !== "1" ? first : undefined));
    return key(CSI_NAMES[final!]!, final === "Z" ? { ...mods, shift: true } : mods);
  }
  if (sequence.length === 1) {
    const code = sequence.charCodeAt(0);
    if (code >= 1 && code <= 26) return key(String.fromCharCode(code + 96), { ctrl: true });
    if (code < 32) return key("unknown");
  }
  if (sequence.length === 2 && sequence[0] === "\x1b") {
    const char = sequence[1]!;
    return char >= " " ? key(char.toLowerCase(), { alt: true, shift: char !== char.toLowerCase() }) : key("unknown");
  }
  if (sequence.startsWith("\x1b")) return key("unknown");
  return { ...key("text"), text: sequence };
}

/** Bracketed paste markers: text between them is pasted, and its newlines are text, not Enter. */
export const PASTE_START = "\x1b[200~";
export const PASTE_END = "\x1b[201~";

/** A pasted run of text, as one text event with its line breaks kept. */
export function pastedText(sequence: string): KeyEvent {
  return { name: "text", text: sequence.replace(/\r\n?/g, "\n"), ctrl: false, alt: false, shift: false };
}

/** Where the escape sequence that starts at `at` ends (exclusive), or null if more input is needed. */
function sequenceEnd(input: string, at: number): number | null {
  const next = input[at + 1];
  if (next === undefined) return null; // a lone ESC: Escape, or the start of a sequence still arriving
  if (next === "[") {
    for (let i = at + 2; i < input.length; i++) {
      const code = input.charCodeAt(i);
      if (code >= 0x40 && code <= 0x7e && !(code === 0x5b && i === at + 2)) return i + 1; // the final byte
      if (code < 0x20 || code > 0x7e) return i; // broken: stop before what is not part of it
    }
    return null;
  }
  if (next === "O") return at + 3 <= input.length ? at + 3 : null;
  if (next === "\x1b") return input[at + 2] === "[" || input[at + 2] === "O" ? sequenceEnd(input, at + 1) : at + 2;
  return at + 1 + (input.codePointAt(at + 1)! > 0xffff ? 2 : 1); // Alt + one character
}

/**
 * Splits reads from the terminal into key events. Keeps what it cannot finish yet (half an
 * escape sequence, an open paste) for the next read; `flush` gives a lone ESC up as Escape.
 */
export class KeyReader {
  private pending = "";
  private paste: string | null = null;

  push(chunk: string): KeyEvent[] {
    const input = this.pending + chunk;
    this.pending = "";
    const events: KeyEvent[] = [];
    let i = 0;
    while (i < input.length) {
      if (this.paste !== null) {
        const end = input.indexOf(PASTE_END, i);
        if (end === -1) {
          // Keep a partial end marker back; the rest is pasted text.
          const keep = partialSuffix(input, PASTE_END);
          this.paste += input.slice(i, input.length - keep);
          this.pending = input.slice(input.length - keep);
          return events;
        }
        this.paste += input.slice(i, end);
        if (this.paste !== "") events.push(pastedText(this.paste));
        this.paste = null;
        i = end + PASTE_END.length;
        continue;
      }
      const char = input[i]!;
      if (char === "\x1b") {
        const end = sequenceEnd(input, i);
        if (end === null) {
          this.pending = input.slice(i);
          return events;
        }
        const sequence = input.slice(i, end);
        if (sequence === PASTE_START) this.paste = "";
        else if (sequence !== PASTE_END) events.push(parseKey(sequence));
        i = end;
        continue;
      }
      if (char === "\r" && input[i + 1] === "\n") {
        events.push(parseKey("\r")); // CRLF from a terminal that sends both is one Enter
        i += 2;
        continue;
      }
      const point = String.fromCodePoint(input.codePointAt(i)!);
      events.push(parseKey(point));
      i += point.length;
    }
    return events;
  }

  /** Whether a lone ESC waits for the rest of its sequence. */
  get waiting(): boolean {
    return this.pending !== "" && this.paste === null;
  }

  /** The terminal sent nothing more: what waits is an Escape (or Alt+ESC) after all. */
  flush(): KeyEvent[] {
    if (!this.waiting) return [];
    const rest = this.pending;
    this.pending = "";
    return rest === "\x1b" || rest === "\x1b\x1b" ? [parseKey(rest)] : [key("unknown")];
  }
}

/** How many characters at the end of `text` could begin `marker`. */
function partialSuffix(text: string, marker: string): number {
  for (let n = Math.min(marker.length - 1, text.length); n > 0; n--) if (marker.startsWith(text.slice(-n))) return n;
  return 0;
}
