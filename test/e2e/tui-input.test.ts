// The TUI's input and its print boundary in a real terminal: keys that arrive in one read, the
// encodings of Shift+Enter, help from a chat, and text from outside that must never reach the
// terminal as escape sequences.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageView, WorkerView } from "../../src/protocol/api/index.js";
import { cleanupHomes, cliJson, createHome, runCli } from "../helpers/daemon.js";
import { addSandboxWorker, createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";
import { backToFleetAndQuit, goToScreen, quit, search, TREE_CHAT_ROW, withTui } from "../helpers/tui.js";

let home: string;
let sandbox: OpencodeSandbox;
let worker: WorkerView;

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  home = createHome();
  expect((await runCli(home, ["daemon", "start"])).code).toBe(0);
  worker = await addSandboxWorker(home, sandbox, "main", { project: "tui-input" });
}, 90_000);

afterAll(async () => {
  await cleanupHomes();
  await sandbox?.close();
});

async function userTexts(chatId: string): Promise<string[]> {
  const show = await cliJson(home, ["chat", "show", chatId]);
  return show.messages.filter((m: MessageView) => m.role === "user").map((m: MessageView) => m.parts.map((p) => (p.kind === "text" ? p.text : "")).join(""));
}

describe("keys in a real terminal", () => {
  it("acts on every key of one read: jj moves twice, batched backspaces delete, every Shift+Enter encoding adds a line", async () => {
    const chatId = (await cliJson(home, ["chat", "new", "--worker", worker.id, "--title", "keys-chat"])).id as string;
    await withTui(home, { cols: 110, rows: 30 }, async (term) => {
      await term.waitFor("● connected");
      await term.waitFor(/status: online/); // the machine is selected first
      await term.waitFor(TREE_CHAT_ROW); // and the rows the two j move to
      term.write("jj"); // machine → worker → the chat, in one read
      await term.waitFor(/keys-chat · main/);
      term.write("\r");
      await term.waitFor("Enter sends");

      term.write("hello world");
      await term.waitFor("hello world");
      term.write("\x7f\x7f\x7f"); // three backspaces in one read
      await term.waitFor(/│hello wo\s/);
      term.write("\r");
      await term.waitFor("echo: hello wo");
      await term.waitFor(/fake\/fake-model · \d+ in/); // the turn is over: the next message may go

      // Shift+Enter as xterm's modifyOtherKeys and tmux extended keys send it, and as kitty does; Ctrl+J.
      term.write("a");
      term.write("\x1b[27;2;13~");
      term.write("b");
      term.write("\x1b[13;2u");
      term.write("c\n");
      term.write("d");
      await term.waitFor(/│d\s/);
      term.write("\r");
      await term.waitFor(/echo: a/);
      expect(await userTexts(chatId)).toEqual(["hello wo", "a\nb\nc\nd"]);
      await backToFleetAndQuit(term);
    });
  }, 60_000);

  it("keeps a chat's unsent text when the user leaves the chat and comes back; sending clears it", async () => {
    const chatId = (await cliJson(home, ["chat", "new", "--worker", worker.id, "--title", "draft-chat"])).id as string;
    await withTui(home, { cols: 100, rows: 30 }, async (term) => {
      await term.waitFor("● connected");
      const open = async () => {
        await search(term, "draft-chat", /draft-chat · main/);
        term.write("\r");
        await term.waitFor("Tab fleet"); // the chat's own hint line (its composer may hold a draft)
      };
      await open();
      term.write("half a thought");
      await term.waitFor(/│half a thought\s/);
      term.write("\t");
      await term.waitFor(/↑↓ move/);
      await open();
      await term.waitFor(/│half a thought\s/); // the draft is back, cursor at its end…
      term.write(", finished");
      await term.waitFor(/│half a thought, finished\s/);
      term.write("\r");
      await term.waitFor("echo: half a thought, finished");
      expect(await userTexts(chatId)).toEqual(["half a thought, finished"]);
      term.write("\t");
      await term.waitFor(/↑↓ move/);
      await open();
      await term.waitFor(/fake\/fake-model · \d+ in/);
      expect(term.screen().join("\n")).not.toMatch(/│half a thought/); // …and a sent message leaves no draft
      await backToFleetAndQuit(term);
    });
  }, 60_000);

  it("opens the help with ? from a chat's empty composer, and the help scrolls at 80×24", async () => {
    await cliJson(home, ["chat", "new", "--worker", worker.id, "--title", "help-chat"]);
    await withTui(home, { cols: 80, rows: 24 }, async (term) => {
      await term.waitFor("● connected");
      await search(term, "help-chat", /help-chat · main/);
      term.write("\r");
      await term.waitFor("Enter sends");
      term.write("?");
      await term.waitFor("Keys");
      await term.waitFor(/ 1–\d+ of \d+ ·/); // the help starts at its top (waited for: a frame may arrive in more than one write)…
      expect(term.screen().join("\n")).not.toContain("allow always"); // …and the permission keys are below the fold
      term.write("\x1b[6~"); // PgDn
      await term.waitFor(/ (?:[2-9]|\d\d+)–\d+ of \d+/); // a page down…
      for (let i = 0; i < 8; i++) term.write("\x1b[6~"); // PgDn past the end stays at the end
      await term.waitFor(/ \d+–(\d+) of \1 ·/); // …and the end scrolls into view: the last line shown is the last line
      term.write("\x1b");
      await term.waitFor("Enter sends");
      expect(term.screen().join("\n")).not.toMatch(/│\?/); // nothing was typed
      await backToFleetAndQuit(term);
    });
  }, 60_000);
});

describe("the TUI's print boundary", () => {
  const INJECTIONS = ["\x1b]52;c;cHduZWQ=\x1b\\", "\x1b]0;pwned\x07", "<\x1b[2J>", "<\x1b[1A>", "<\x9b31m>", "<\x9d0;t\x07>"];
  const payload = `inj ${INJECTIONS.join(" ")} end`;

  it("never lets escape sequences from a reply, a directory name or a checklist item reach the terminal", async () => {
    const chatId = (await cliJson(home, ["chat", "new", "--worker", worker.id, "--title", "inject-chat"])).id as string;
    const sent = await runCli(home, ["chat", "send", chatId, payload, "--wait"]);
    expect(sent.code, sent.stderr).toBe(0);
    expect((await runCli(home, ["checklist", "add", "evil", payload])).code).toBe(0);
    const evilDir = join(sandbox.root, "projects", "evil\x1b]0;dir\x07");
    mkdirSync(evilDir, { recursive: true });
    const added = await runCli(home, ["worker", "add", evilDir, "--env-file", sandbox.envFile("tui-input"), "--json"]);
    expect(added.code, added.stderr).toBe(0);

    const term = await withTui(home, { cols: 120, rows: 40 }, async (term) => {
      await term.waitFor("● connected");
      await term.waitFor(/status: online/);
      // The machine's row comes before its workers' (another subscription): a key pressed before they show moves nowhere.
      await term.waitFor(/■ evil\^\[\]0;dir\^G/);
      term.write("j"); // the worker named after the evil directory: its details show the directory
      await term.waitFor(/directory: /);
      await search(term, "inject-chat", /inject-chat · main/);
      term.write("\r");
      await term.waitFor("echo: inj");
      await term.waitFor("Enter sends");
      term.write("\t");
      await term.waitFor(/↑↓ move/);
      await goToScreen(term, "4", /evil/); // checklists
      term.write("\r");
      await term.waitFor(/\[ \] inj/);
      term.write("\x1b");
      await term.waitFor("Checklists");
      term.write("g");
      term.write("2"); // workers: names and directories
      await term.waitFor(/DIRECTORY/);
      await term.waitFor(/evil/);
      await quit(term);
    });
    const raw = term.raw();
    expect(raw).toContain("inj "); // the payload was drawn…
    for (const bad of ["\x1b]52", "\x1b]0;pwned", "\x1b]0;dir", "<\x1b[2J>", "<\x1b[1A>", "\x9b", "\x9d"]) expect(raw).not.toContain(bad); // …but never its escapes
  }, 90_000);
});

describe("labels and colour", () => {
  it("shows hints that match each screen's keys, counts in good English, and no colour under NO_COLOR", async () => {
    expect((await runCli(home, ["attendance", "mark", "standup", "--status", "remote"])).code).toBe(0);
    const term = await withTui(home, { cols: 120, rows: 32, env: { NO_COLOR: "1" } }, async (term) => {
      await term.waitFor("● connected");
      await goToScreen(term, "5", /standup/); // attendance
      await term.waitFor(/m mark yourself/); // the status line names the key the screen uses
      term.write("\r");
      await term.waitFor(/remote/);
      await term.waitFor(/p present · r remote · x absent/);
      term.write("p");
      await term.waitFor(/present\s+\S+/);
      term.write("\x1b");
      await term.waitFor(/m mark yourself/);
      await goToScreen(term, "9", /system_admin/); // admin
      const admin = term.screen().join("\n");
      expect(admin).toMatch(/system_admin \S/); // the level and what follows it do not run together
      expect(admin).not.toMatch(/\b1 sessions\b/);
      term.write("\t");
      await term.waitFor(/status: online/);
      await quit(term);
    });
    // Bold, dim and inverse stay; no foreground or background colour is ever set.
    expect(term.raw()).not.toMatch(/\x1b\[(?:[0-9;]*;)?(?:3[0-79]|4[0-79]|9[0-7]|10[0-7]|38;|48;)[0-9;]*m/);
  }, 60_000);
});
