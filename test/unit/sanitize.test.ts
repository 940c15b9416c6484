import { describe, expect, it } from "vitest";
import { sanitize, sanitizeInline } from "../../src/terminal/sanitize.js";

const ESC = "\x1b";
const HOSTILE = [
  `${ESC}]52;c;aGVsbG8=${ESC}\\`, // OSC 52: write the clipboard
  `${ESC}]0;pwned\x07`, // OSC 0: retitle the terminal
  `${ESC}[2J${ESC}[H`, // CSI: clear and home
  `${ESC}[1A${ESC}[2K`, // CSI: up a line, erase it
  "\x9b31m", // C1 CSI
  "\x9d0;title\x9c", // C1 OSC and ST
  "a\rb", // carriage return rewrites the line
  "\u202egnp.exe", // right-to-left override
];

describe("the terminal sanitizer", () => {
  it("leaves ordinary text, newlines and tabs alone, and returns the same string", () => {
    const text = "fix the test\n\tin src/a.ts — ✓ done 🎉";
    expect(sanitize(text)).toBe(text);
  });

  it("shows every escape and control character visibly and emits none", () => {
    for (const input of HOSTILE) {
      const out = sanitize(input);
      expect(out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]/);
    }
    expect(sanitize(`${ESC}]0;pwned\x07`)).toBe("^[]0;pwned^G");
    expect(sanitize("\x9b31m")).toBe("<9b>31m");
    expect(sanitize("\u202eabc")).toBe("<U+202E>abc");
  });

  it("turns CRLF into a newline but shows a lone carriage return", () => {
    expect(sanitize("a\r\nb")).toBe("a\nb");
    expect(sanitize("a\rb")).toBe("a^Mb");
  });

  it("keeps one-line values on one line", () => {
    expect(sanitizeInline("api\nfake row")).toBe("api⏎fake row");
    expect(sanitizeInline("a\tb")).toBe("a b");
    expect(sanitizeInline(`x${ESC}[31m`)).toBe("x^[[31m");
    expect(sanitizeInline("plain")).toBe("plain");
  });
});
