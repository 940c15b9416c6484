// Replies as the TUI draws them: nested lists keep their depth, tables are boxed and fitted to
// the width, and fenced code is highlighted by cli-highlight (loaded lazily) without ever letting
// the model's text carry an escape sequence.
import { describe, expect, it, vi } from "vitest";
import { highlightCode, markedLines, onHighlighterReady } from "../../src/tui/render/highlight.js";
import { type Line, textWidth } from "../../src/tui/render/lines.js";
import { markdownLines } from "../../src/tui/render/markdown.js";

const text = (line: Line) => line.map((s) => s.text).join("");
const rows = (markdown: string, width = 60) => markdownLines(markdown, width).map((line) => text(line).trimEnd());

/** Waits for the lazy import of cli-highlight (the first request starts it). */
function highlighterReady(): Promise<void> {
  return new Promise((resolve) => {
    const stop = onHighlighterReady(() => {
      stop();
      resolve();
    });
    if (highlightCode("x", "js") !== null) {
      stop();
      resolve();
    }
  });
}

describe("lists", () => {
  it("keeps the depth of nested items, their numbers, and the lines that continue an item", () => {
    const out = rows("- fruit\n  - apple\n    - green\n  - pear\n1. first\n   1. nested one\n   more of nested one\n- back out");
    expect(out).toEqual(["• fruit", "  ◦ apple", "    ▪ green", "  ◦ pear", "1. first", "  1. nested one", "     more of nested one", "• back out"]);
  });

  it("wraps a nested item under its own text", () => {
    const out = rows("- top\n  - a nested item that is long enough to wrap at twenty", 20);
    expect(out.slice(1)).toEqual(["  ◦ a nested item", "    that is long", "    enough to wrap", "    at twenty"]);
  });
});

describe("tables", () => {
  const table = "| name | cost | note |\n|:-----|-----:|:----:|\n| alpha | 1.50 | ok |\n| b | 10 | `x` |";

  it("draws a box with aligned columns: left, right, centred", () => {
    expect(rows(table)).toEqual([
      "┌───────┬──────┬──────┐",
      "│ name  │ cost │ note │",
      "├───────┼──────┼──────┤",
      "│ alpha │ 1.50 │  ok  │",
      "│ b     │   10 │  x   │",
      "└───────┴──────┴──────┘",
    ]);
  });

  it("fits a wide table to the width, the widest columns giving up room first", () => {
    const wide = `| key | description |\n|---|---|\n| a | ${"words ".repeat(30)}|`;
    const out = rows(wide, 40);
    for (const line of out) expect(textWidth(line)).toBeLessThanOrEqual(40);
    expect(out[3]).toMatch(/^│ a {3}│ words words .*… │$/);
    expect(out[0]!.length).toBe(40);
  });

  it("never lets a cell carry an escape sequence", () => {
    const out = rows("| a | b |\n|---|---|\n| \x1b]0;pwned\x07 | \x1b[2J |");
    expect(out.join("\n")).not.toContain("\x1b");
    expect(out[3]).toContain("^[]0;pwned^G");
  });
});

describe("fenced code", () => {
  it("is highlighted once cli-highlight has loaded, and only with our own styles", async () => {
    const code = "```js\nconst answer = 42; // the answer\n```";
    await highlighterReady();
    const lines = markdownLines(code, 60);
    const body = lines[1]!;
    expect(text(body)).toBe("  const answer = 42; // the answer");
    expect(body.find((s) => s.text === "const")?.color).toBe("magenta");
    expect(body.find((s) => s.text === "42")?.color).toBe("green");
    expect(body.find((s) => s.text.includes("the answer"))?.italic).toBe(true);
  });

  it("shows escape sequences in the code as text, never as escapes", async () => {
    await highlighterReady();
    const hostile = 'const s = "\x1b]0;pwned\x07\x1b[2J\x1b]52;c;aGk=\x07";\n\x9b31m';
    const lines = highlightCode(hostile, "js")!;
    const all = lines.map(text).join("\n");
    expect(all).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(all).toContain("^[]0;pwned^G^[[2J");
  });

  it("turns the theme's marks into segments and drops any other escape", () => {
    const lines = markedLines("\x01keyword\x02let\x03 x\x1b[31m = \x1b]0;t\x07\x01string\x02'a\nb'\x03", {});
    expect(lines.map(text)).toEqual(["let x = 'a", "b'"]);
    expect(lines[0]![0]).toEqual({ text: "let", color: "magenta" });
    expect(lines[1]![0]).toEqual({ text: "b'", color: "green" });
  });

  it("stays plain for a language it does not know, and for code without one", async () => {
    await highlighterReady();
    expect(highlightCode("x = 1", "no-such-language")).toBeNull();
    expect(markdownLines("```\nplain code\n```", 40)[1]).toEqual([{ text: "  plain code", color: "cyan" }]);
  });

  it("stays plain with NO_COLOR, and never loads the highlighter", async () => {
    vi.stubEnv("NO_COLOR", "1");
    vi.resetModules();
    try {
      const fresh = await import("../../src/tui/render/highlight.js");
      expect(fresh.highlightCode("const a = 1;", "js")).toBeNull();
      expect(fresh.highlighterLoaded()).toBe(false);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });
});

describe("replies megabytes long", () => {
  it("draws one paragraph of 9 MB as its lines (the TUI overflowed the stack on them and exited)", () => {
    const paragraph = "the keeper of the far lighthouse writes on ".repeat(220_000);
    const lines = markdownLines(paragraph, 24);
    expect(lines.length).toBeGreaterThan(400_000);
    expect(lines.every((line) => textWidth(text(line)) <= 24)).toBe(true);
  });

  it("draws a code block and a table of a hundred thousand rows each", () => {
    const code = ["```", ...Array.from({ length: 150_000 }, (_, i) => `line ${i}`), "```"].join("\n");
    expect(markdownLines(code, 60).length).toBeGreaterThan(150_000);
    const table = ["| n | square |", "|---|---|", ...Array.from({ length: 150_000 }, (_, i) => `| ${i} | ${i * i} |`)].join("\n");
    expect(rows(table).at(-2)).toMatch(/^│ 149999 +│ 22499700001 │$/);
  });

  it("shows a table with more columns than the width can draw as its text, at once", () => {
    const header = `|${" h |".repeat(20_000)}`;
    const table = [header, `|${"---|".repeat(20_000)}`, `|${" 1 |".repeat(20_000)}`].join("\n");
    const out = rows(table, 80); // a box of 20,000 columns cannot be drawn in 80 (with wide cells, fitting them took minutes)
    expect(out).toHaveLength(3);
    expect(out[0]).toBe(header.slice(0, 79) + "…");
  });
});
