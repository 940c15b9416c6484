import { render } from "ink-testing-library";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import type { RequestView } from "../../src/protocol/api/index.js";
import { Composer, EMPTY_EDIT, type Edit } from "../../src/tui/components/Composer.js";
import { HelpDialog } from "../../src/tui/components/Dialogs.js";
import { RequestPrompt } from "../../src/tui/components/RequestPrompt.js";
import { KeyProvider, PRIORITY, useKeys } from "../../src/tui/keys/dispatcher.js";
import { KEYMAP } from "../../src/tui/keys/keymap.js";
import { KeyReader, parseKey } from "../../src/tui/keys/parse.js";

const strip = (s: string | undefined) => (s ?? "").replace(/\x1b\[[0-9;]*m/g, "");
/** Lets Ink read the input and React settle, as a person's keystrokes would. */
const settle = () => new Promise((resolve) => setImmediate(() => setTimeout(resolve, 0)));

/** Writes each chunk as one read; the dispatcher hands out one key per tick, so wait a tick per character. */
async function type(stdin: { write(data: string): void }, ...chunks: string[]) {
  for (const chunk of chunks) {
    stdin.write(chunk);
    for (let i = 0; i <= chunk.length; i++) await settle();
  }
}

describe("key parsing", () => {
  it("tells Enter, Ctrl+J, Alt+Enter and Shift+Enter (kitty) apart", () => {
    expect(parseKey("\r")).toMatchObject({ name: "return", ctrl: false, alt: false, shift: false });
    expect(parseKey("\n")).toMatchObject({ name: "return", ctrl: true });
    expect(parseKey("\x1b\r")).toMatchObject({ name: "return", alt: true });
    expect(parseKey("\x1b[13;2u")).toMatchObject({ name: "return", shift: true });
  });

  it("names arrows, escape, backspace, tab and control letters; text stays text", () => {
    expect(parseKey("\x1b[A").name).toBe("up");
    expect(parseKey("\x1bOB").name).toBe("down");
    expect(parseKey("\x1b[1;5C")).toMatchObject({ name: "right", ctrl: true });
    expect(parseKey("\x1b").name).toBe("escape");
    expect(parseKey("\x7f").name).toBe("backspace");
    expect(parseKey("\t").name).toBe("tab");
    expect(parseKey("\x10")).toMatchObject({ name: "p", ctrl: true });
    expect(parseKey("héllo wörld")).toMatchObject({ name: "text", text: "héllo wörld" });
  });
});

function Probe({ name, priority, swallow, seen }: { name: string; priority: number; swallow: boolean; seen: string[] }) {
  useKeys((e) => {
    seen.push(`${name}:${e.text}`);
    return swallow;
  }, priority);
  return null;
}

describe("the key dispatcher", () => {
  it("gives a key to the highest priority first, and lower ones only if it is not swallowed", async () => {
    const seen: string[] = [];
    const { stdin } = render(
      <KeyProvider>
        <Probe name="screen" priority={PRIORITY.screen} swallow={false} seen={seen} />
        <Probe name="dialog" priority={PRIORITY.dialog} swallow={true} seen={seen} />
      </KeyProvider>,
    );
    await type(stdin, "x");
    expect(seen).toEqual(["dialog:x"]);
  });

  it("takes one read of hundreds of thousands of keys (a long paste without bracketed paste) and hands them out in order", async () => {
    const seen: string[] = [];
    const { stdin, unmount } = render(
      <KeyProvider>
        <Probe name="screen" priority={PRIORITY.screen} swallow={true} seen={seen} />
      </KeyProvider>,
    );
    stdin.write("ab\t".repeat(100_000)); // 300,000 keys in one read
    await settle();
    await settle();
    expect(seen.slice(0, 3)).toEqual(["screen:a", "screen:b", "screen:"]);
    unmount();
  });
});

function ComposerHarness({ onSend, blocked = null }: { onSend(text: string): void; blocked?: string | null }) {
  const [edit, setEdit] = useState<Edit>(EMPTY_EDIT);
  return (
    <KeyProvider>
      <Composer edit={edit} onEdit={setEdit} onSend={onSend} blockedReason={blocked} active width={50} />
    </KeyProvider>
  );
}

describe("the composer", () => {
  it("sends with Enter, adds lines with Ctrl+J, Alt+Enter or Shift+Enter, and edits", async () => {
    const onSend = vi.fn();
    const { stdin, lastFrame } = render(<ComposerHarness onSend={onSend} />);
    await type(stdin, "helo", "\x1b[D", "l", "\x1b[C", "\n", "second", "\x1b\r", "third", "\x1b[13;2u", "fourth!", "\x7f");
    expect(strip(lastFrame())).toContain("hello");
    expect(strip(lastFrame())).toContain("fourth");
    await type(stdin, "\r");
    expect(onSend).toHaveBeenCalledWith("hello\nsecond\nthird\nfourth");
    expect(strip(lastFrame())).toContain("Enter sends"); // cleared, the placeholder is back
  });

  it("does not send an empty message, nor while blocked", async () => {
    const onSend = vi.fn();
    const { stdin, lastFrame } = render(<ComposerHarness onSend={onSend} blocked="answer the request above first" />);
    await type(stdin, "\r", "hi", "\r");
    expect(onSend).not.toHaveBeenCalled();
    expect(strip(lastFrame())).toContain("hi");
  });
});

describe("the permission prompt", () => {
  const permission: RequestView = {
    id: "req_0000000000000001" as RequestView["id"],
    chatId: "cht_0000000000000001" as RequestView["chatId"],
    chatTitle: "t",
    workerName: "w",
    machineName: "m",
    kind: "permission",
    status: "pending",
    permission: { name: "bash", patterns: ["rm -rf build"], detail: "rm -rf build" },
    questions: null,
    answer: null,
    createdAt: 0,
    answeredAt: null,
  };

  for (const [key, reply] of [
    ["y", "once"],
    ["a", "always"],
    ["n", "reject"],
  ] as const) {
    it(`answers "${reply}" with ${key}`, async () => {
      const onPermit = vi.fn();
      const { stdin, lastFrame } = render(
        <KeyProvider>
          <RequestPrompt request={permission} onPermit={onPermit} onAnswer={() => {}} active width={60} room={20} />
        </KeyProvider>,
      );
      expect(strip(lastFrame())).toMatch(/OpenCode asks to use bash[\s\S]*rm -rf build[\s\S]*\[y\] once/);
      await type(stdin, "z", key);
      expect(onPermit.mock.calls).toEqual([[reply]]);
    });
  }

  it("answers a question by the number of an option", async () => {
    const onAnswer = vi.fn();
    const question: RequestView = {
      ...permission,
      kind: "question",
      permission: null,
      questions: [
        {
          question: "Which color?",
          header: "Color",
          options: [
            { label: "red", description: "warm" },
            { label: "blue", description: "cool" },
          ],
          multiple: false,
          custom: true,
        },
      ],
    };
    const { stdin, lastFrame } = render(
      <KeyProvider>
        <RequestPrompt request={question} onPermit={() => {}} onAnswer={onAnswer} active width={60} room={20} />
      </KeyProvider>,
    );
    expect(strip(lastFrame())).toMatch(/Which color\?[\s\S]*\[1\] red[\s\S]*\[2\] blue/);
    await type(stdin, "2");
    expect(onAnswer).toHaveBeenCalledWith([["blue"]]);
  });
});

describe("the help", () => {
  it("lists every command of the keymap", () => {
    const out = strip(
      render(
        <KeyProvider>
          <HelpDialog onClose={() => {}} width={120} rows={200} />
        </KeyProvider>,
      ).lastFrame(),
    );
    for (const command of Object.values(KEYMAP)) expect(out, command.help).toContain(command.help);
  });

  it("scrolls with the mouse wheel, three lines at a time", async () => {
    const { stdin, lastFrame } = render(
      <KeyProvider>
        <HelpDialog onClose={() => {}} width={80} rows={12} />
      </KeyProvider>,
    );
    expect(strip(lastFrame())).toMatch(/ 1–8 of \d+ ·/);
    await type(stdin, "\x1b[<65;5;5M");
    expect(strip(lastFrame())).toMatch(/ 4–11 of \d+ ·/);
    await type(stdin, "\x1b[<64;5;5M");
    expect(strip(lastFrame())).toMatch(/ 1–8 of \d+ ·/);
  });
});

describe("input that arrives in one read", () => {
  it("splits a read into keys: escape sequences, UTF-8 text, control keys and a paste", () => {
    const reader = new KeyReader();
    const names = (chunk: string) => reader.push(chunk).map((e) => (e.name === "text" ? e.text : e.name));
    expect(names("jj")).toEqual(["j", "j"]);
    expect(names("\x7f\x7f\x7f")).toEqual(["backspace", "backspace", "backspace"]);
    expect(names("g4\x1b[Aé😀\r")).toEqual(["g", "4", "up", "é", "😀", "return"]);
    expect(names("a\x1b[200~x\ry\x1b[201~b")).toEqual(["a", "x\ny", "b"]);
    expect(names("\x1b[")).toEqual([]); // half a sequence waits for the rest…
    expect(names("B")).toEqual(["down"]); // …which completes it
    expect(names("\x1b")).toEqual([]);
    expect(reader.flush().map((e) => e.name)).toEqual(["escape"]); // a lone ESC is Escape
    expect(reader.push("\x1b[27;2;13~")[0]).toMatchObject({ name: "return", shift: true }); // xterm modifyOtherKeys
    expect(reader.push("\x1b[13;2u")[0]).toMatchObject({ name: "return", shift: true }); // kitty
    // SGR mouse reports: the wheel is a key, a click is read whole and means nothing.
    expect(names("\x1b[<64;10;5M\x1b[<65;10;5M\x1b[<0;3;4M\x1b[<0;3;4mj")).toEqual(["wheelup", "wheeldown", "mouse", "mouse", "j"]);
  });

  it("still sends when Enter comes with fast typing, and keeps pasted newlines as text", async () => {
    const onSend = vi.fn();
    const { stdin, lastFrame } = render(<ComposerHarness onSend={onSend} />);
    await type(stdin, "\x1b[200~", "line one\rline two", "\x1b[201~");
    expect(onSend).not.toHaveBeenCalled();
    expect(strip(lastFrame())).toMatch(/line one[\s\S]*line two/);
    await type(stdin, " typed fast\r");
    await settle();
    expect(onSend.mock.calls).toEqual([["line one\nline two typed fast"]]);
  });
});
