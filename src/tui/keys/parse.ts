// Turns what the terminal sends into key events. Ink's own parser merges some keys we must tell
// apart (Ctrl+J from Enter, Alt+Enter, Shift+Enter under the kitty protocol), so we parse here.
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

/**
 * Splits what the terminal sent in one read into key events: fast typing can deliver "text⏎" in
 * one chunk, and that Enter must still send. (Pastes arrive bracketed and are handled apart.)
 */
export function parseKeys(sequence: string): KeyEvent[] {
  if (sequence.length > 1 && !sequence.includes("\x1b") && /[\r\n]/.test(sequence)) {
    return sequence
      .split(/(\r\n?|\n)/)
      .filter((piece) => piece !== "")
      .map((piece) => (piece.startsWith("\r") ? parseKey("\r") : parseKey(piece)));
  }
  return [parseKey(sequence)];
}

/** A pasted run of text, as one text event with its line breaks kept. */
export function pastedText(sequence: string): KeyEvent {
  return { name: "text", text: sequence.replace(/\r\n?/g, "\n"), ctrl: false, alt: false, shift: false };
}
