// The TUI in a real terminal: a chat opened, streamed and answered by keys; the bell, the unread
// mark and a request answered from the fleet; an edit's diff in the request; the daemon lost and
// found again; a presentation followed. (tui-input, -screen, -views, -worktree: the rest.)
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkerView } from "../../src/protocol/api/index.js";
import { cleanupHomes, cliJson, createHome, runCli, waitFor } from "../helpers/daemon.js";
import { addSandboxWorker, createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";
import { backToFleetAndQuit, goToScreen, quit, selectNewestChat, withTui } from "../helpers/tui.js";

let home: string;
let sandbox: OpencodeSandbox;
let worker: WorkerView;

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  home = createHome();
  expect((await runCli(home, ["daemon", "start"])).code).toBe(0);
  worker = await addSandboxWorker(home, sandbox, "main", { project: "tui", permission: "ask" });
}, 90_000);

afterAll(async () => {
  await cleanupHomes();
  await sandbox?.close();
});

describe("the TUI in a real terminal", () => {
  it("opens a chat by keys, streams a reply, answers a permission by key, and quits with the terminal restored", async () => {
    const term = await withTui(home, { cols: 110, rows: 30 }, async (term) => {
      await term.waitFor("● connected");
      await term.waitFor(/■ main\s+idle/);
      term.write("j"); // from the machine to its worker
      await term.waitFor(/state: idle/);
      term.write("n"); // a new chat on it
      await term.waitFor("Enter sends");

      term.write("hello from the tui");
      await term.waitFor("hello from the tui");
      term.write("\r");
      await term.waitFor("echo: hello from the tui");
      await term.waitFor(/fake\/fake-model · 12 in \/ 7 out/);

      term.write("run command echo tui > tui.txt");
      term.write("\r");
      await term.waitFor("OpenCode asks to use bash");
      await term.waitFor("[y] once");
      term.write("y");
      await term.waitFor("ran it");
      expect(readFileSync(join(worker.directory, "tui.txt"), "utf8")).toBe("tui\n");
      await term.waitFor(/✓ bash/);

      // The transcript went to the scrollback once: no line printed twice.
      const transcript = term.buffer().filter((line) => line.includes("echo: hello from the tui"));
      expect(transcript).toHaveLength(1);

      term.write("\t"); // back to the fleet
      await term.waitFor(/hello from the tui/);
      await term.waitFor(/↑↓ move/);
      await quit(term);
    });
    const raw = term.raw();
    // The cursor is shown again after the last time it was hidden.
    expect(raw.lastIndexOf("\x1b[?25h")).toBeGreaterThan(raw.lastIndexOf("\x1b[?25l"));
  }, 90_000);

  it("rings when a chat that is not open needs you, marks it unread, and answers its request from the fleet", async () => {
    const chatId = (await cliJson(home, ["chat", "new", "--worker", worker.id, "--title", "attention-chat"])).id as string;
    await withTui(home, { cols: 120, rows: 32 }, async (term) => {
      /** BEL characters that are not the end of an OSC sequence (the window title uses one). */
      const bells = () =>
        (
          term
            .raw()
            .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, "")
            .match(/\x07/g) ?? []
        ).length;
      await term.waitFor(/attention-chat/);
      await term.waitFor(/status: online/);
      expect(bells()).toBe(0);
      // From another terminal: a turn that asks permission, in a chat that is not open here.
      const sending = runCli(home, ["chat", "send", chatId, "run command echo fleet > fleet.txt", "--wait"]);
      await term.waitFor(/● attention-chat/); // unread, in the tree
      await waitFor("the bell", () => bells() > 0);
      expect(term.raw()).toContain("\x1b]0;ocfleet (1 waiting)\x07"); // the window title counts it
      // Select it: the preview shows the request, and y answers it without opening the chat.
      await selectNewestChat(term, /attention-chat ·/);
      await term.waitFor("OpenCode asks to use bash");
      // The turn is not answering: it waits for the user, and the preview's header says so.
      await term.waitFor(/attention-chat · main · active · 1 waiting for you/);
      expect(term.screen().join("\n")).not.toContain("· answering");
      term.write("y");
      await term.waitFor("allowed (once)");
      expect((await sending).code).toBe(0);
      expect(readFileSync(join(worker.directory, "fleet.txt"), "utf8")).toBe("fleet\n");
      term.write("\r"); // opening the chat reads it
      // The chat screen's own composer, not the footer: the fleet's preview shows that too, so it
      // would not prove the chat was open when Tab goes back (a chat never shown stays unread).
      await term.waitFor(/Message — Enter sends/);
      await term.waitFor(/fake\/fake-model · \d+ in/); // the turn has ended while the chat is open
      term.write("\t");
      await term.waitFor(/attention-chat ·/);
      expect(term.screen().join("\n")).not.toMatch(/● attention-chat/);
      await quit(term);
    });
  }, 90_000);

  it("shows an edit's diff, coloured, in the request prompt, and a command's directory, worker and machine", async () => {
    const chatId = (await cliJson(home, ["chat", "new", "--worker", worker.id, "--title", "diff-chat"])).id as string;
    await withTui(home, { cols: 120, rows: 36 }, async (term) => {
      await term.waitFor(/diff-chat/);
      const sending = runCli(home, ["chat", "send", chatId, "write file notes.txt containing a line from the prompt", "--wait"]);
      await selectNewestChat(term, /diff-chat ·/);
      await term.waitFor("OpenCode asks to use edit");
      await term.waitFor("+a line from the prompt");
      await term.waitFor(/main on \S+/);
      // The added line is drawn green: SGR 32 just before its text.
      expect(term.raw()).toMatch(/\x1b\[32m\+a line from the prompt/);
      term.write("y");
      await term.waitFor("allowed (once)");
      expect((await sending).code).toBe(0);
      expect(readFileSync(join(worker.directory, "notes.txt"), "utf8")).toContain("a line from the prompt");

      // A command says where it would run.
      const command = runCli(home, ["chat", "send", chatId, "run command echo where > where.txt", "--wait"]);
      await term.waitFor("OpenCode asks to use bash");
      await term.waitFor(`in ${worker.directory}`);
      term.write("n");
      await term.waitFor("rejected");
      await command;
      await quit(term);
    });
  }, 90_000);

  it("shows a banner when the daemon goes away, and comes back by itself with its screens", async () => {
    await withTui(home, { cols: 110, rows: 30 }, async (term) => {
      await term.waitFor(/■ main\s+idle/);
      expect((await runCli(home, ["daemon", "stop"])).code).toBe(0);
      await term.waitFor("Lost the daemon");
      expect((await runCli(home, ["daemon", "start"])).code).toBe(0);
      await term.waitFor("● connected", 20_000);
      await term.waitFor(/■ main\s+(starting|idle)/);
      expect(term.screen().join("\n")).not.toContain("Lost the daemon");
      await quit(term);
    });
  }, 60_000);

  it("follows a presentation on the follow screen as the presenter moves", async () => {
    const deck = join(sandbox.root, "deck.md");
    writeFileSync(deck, "# Welcome\n\nfirst slide text\n\n---\n\n# Second\n\nsecond slide text\n\n---\n\n# Third\n\nthird slide text\n");
    const started = await cliJson(home, ["present", "start", deck]);
    await withTui(home, { cols: 110, rows: 30 }, async (term) => {
      await term.waitFor("● connected");
      await goToScreen(term, "7", "Welcome");
      term.write("\r");
      await term.waitFor("first slide text");
      await term.waitFor("slide 1/3");
      expect((await runCli(home, ["present", "next", started.id])).code).toBe(0); // from another terminal
      await term.waitFor("second slide text");
      term.write("\x1b[C"); // → : this user started it, so they present from here too
      await term.waitFor("third slide text");
      await term.waitFor("slide 3/3");
      term.write("\x1b");
      await term.waitFor("Presentations");
      await backToFleetAndQuit(term);
    });
  }, 60_000);

  it("prints a short help and exits 0 without a terminal", async () => {
    const result = await runCli(home, []);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage: ocfleet");
  });
});
