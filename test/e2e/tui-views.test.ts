// The TUI's views of a chat in a real terminal: a tool's whole output in a pager, highlighted code,
// tables and nested lists, the mouse wheel and PgUp/PgDn in the transcript and the fleet's details,
// and a search hit opened at its message.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkerView } from "../../src/protocol/api/index.js";
import { cleanupHomes, cliJson, createHome, runCli, waitFor } from "../helpers/daemon.js";
import { addSandboxWorker, createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";
import type { PtySession } from "../helpers/pty.js";
import { backToFleetAndQuit, goToScreen, quit, search, selectNewestChat, withTui } from "../helpers/tui.js";

let home: string;
let sandbox: OpencodeSandbox;
let worker: WorkerView;
let toolChat: string;
let markdownChat: string;

const send = async (chat: string, text: string) => {
  const sent = await runCli(home, ["chat", "send", chat, text, "--wait"]);
  expect(sent.code, sent.stderr).toBe(0);
};

const MARKDOWN = ["", "```js", "const answer = 42;", "```", "", "| name | cost |", "|:---|---:|", "| alpha | 1.5 |", "", "- top", "  - nested"].join("\n");

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  home = createHome();
  expect((await runCli(home, ["daemon", "start"])).code).toBe(0);
  worker = await addSandboxWorker(home, sandbox, "main", { project: "tui-views" });
  toolChat = (await cliJson(home, ["chat", "new", "--worker", worker.id, "--title", "tool-chat"])).id;
  await send(toolChat, "remember zebra");
  // An escape sequence in the tool's output: the pager must show it, never send it.
  await send(toolChat, "run command printf 'before\\033]0;pwned\\007after\\n'; seq 1 100");
  for (const text of ["filler one", "filler two", "filler three"]) await send(toolChat, text);
  markdownChat = (await cliJson(home, ["chat", "new", "--worker", worker.id, "--title", "md-chat"])).id;
  await send(markdownChat, MARKDOWN);
}, 180_000);

afterAll(async () => {
  await cleanupHomes();
  await sandbox?.close();
});

const SIZE = { cols: 80, rows: 24 };

/** Machine → worker → md-chat → tool-chat (the newest chat first), one key at a time. */
async function selectChat(term: PtySession, title: "md-chat" | "tool-chat"): Promise<void> {
  await selectNewestChat(term, "md-chat · main", /state: idle/);
  if (title === "md-chat") return;
  term.write("j");
  await term.waitFor("tool-chat · main");
}

/** Waits until the view is scrolled to the end of the chat again. */
async function atTheEnd(term: PtySession): Promise<void> {
  await term.waitFor(/echo: filler three/);
  await waitFor("the end of the chat", () => !/more lines below/.test(term.screen().join("\n")));
}

describe("a chat's views in the TUI (80×24)", () => {
  it("opens a tool's whole output in a pager that scrolls, and shows its escapes as text", async () => {
    await withTui(home, SIZE, async (term) => {
      await term.waitFor("● connected");
      await selectChat(term, "tool-chat");
      term.write("\r");
      await term.waitFor("Enter sends");
      await term.waitFor(/filler three/);
      // Up to the tool call, whose output the transcript cuts.
      term.write("\x1b[5~");
      await term.waitFor(/more lines · Ctrl\+O shows all/);
      term.write("\x0f"); // Ctrl+O
      await term.waitFor(/── bash printf/);
      await term.waitFor(/lines 1–\d+ of 101/);
      expect(term.screen().join("\n")).toContain("before^[]0;pwned^Gafter");
      term.write("\x1b[F"); // End
      await term.waitFor(/lines \d+–101 of 101/);
      expect(term.screen()).toContain("100");
      term.write("\x1b[5~"); // PgUp
      await term.waitFor(/lines (?!82)\d+–(?!101)\d+ of 101/);
      expect(term.screen().join("\n")).not.toMatch(/^100$/m);
      term.write("g"); // to the start
      await term.waitFor(/lines 1–\d+ of 101/);
      term.write("j");
      await term.waitFor(/lines 2–\d+ of 101/);
      term.write("q");
      await term.waitFor("Enter sends");
      expect(term.raw()).not.toContain("\x1b]0;pwned");
      await backToFleetAndQuit(term);
    });
  }, 90_000);

  it("scrolls the transcript and the fleet's details with the mouse wheel and PgUp/PgDn, and gives the mouse back on exit", async () => {
    const term = await withTui(home, SIZE, async (term) => {
      await term.waitFor("● connected");
      expect(term.raw()).toContain("\x1b[?1000h\x1b[?1006h"); // wheel reports, in SGR form
      await selectChat(term, "tool-chat");
      await term.waitFor(/echo: filler three/);
      term.write("\x1b[5~"); // PgUp scrolls the details pane
      await term.waitFor(/↓ \d+ more lines below · PgDn/);
      term.write("\x1b[6~");
      await atTheEnd(term);
      term.write("\r");
      await term.waitFor("Enter sends");
      term.write("\x1b[<64;20;10M"); // the wheel, up
      await term.waitFor(/↓ 3 more lines below · PgDn/);
      term.write("\x1b[<64;20;10M\x1b[<64;20;10M");
      await term.waitFor(/↓ 9 more lines below · PgDn/);
      term.write("\x1b[<65;20;10M"); // down
      await term.waitFor(/↓ 6 more lines below · PgDn/);
      term.write("\x1b[<0;20;10M\x1b[<0;20;10m"); // a click is read and ignored, never typed
      term.write("\x1b[<65;20;10M\x1b[<65;20;10M");
      await atTheEnd(term);
      expect(term.screen().join("\n")).not.toMatch(/<0;20/);
      await backToFleetAndQuit(term);
    });
    const raw = term.raw();
    expect(raw.lastIndexOf("\x1b[?1000l")).toBeGreaterThan(raw.lastIndexOf("\x1b[?1000h"));
  }, 90_000);

  it("leaves the mouse to the terminal with OCFLEET_TUI_MOUSE=off", async () => {
    const term = await withTui(home, { ...SIZE, env: { OCFLEET_TUI_MOUSE: "off" } }, async (term) => {
      await term.waitFor("● connected");
      await quit(term);
    });
    expect(term.raw()).not.toContain("\x1b[?1000h");
  }, 30_000);

  it("opens a search hit at its message, marked, instead of at the end of the chat", async () => {
    await withTui(home, SIZE, async (term) => {
      await term.waitFor("● connected");
      await term.waitFor(/status: online/);
      await search(term, "zebr", /tool-chat · main · user .*zebra/);
      term.write("\r"); // the best hit: the prompt, or the reply that echoes it
      await term.waitFor("Enter sends");
      await term.waitFor(/remember zebra/);
      await term.waitFor(/↓ \d+ more lines below · PgDn/); // not at the end: at the message
      expect(term.raw()).toMatch(/\x1b\[7m[^\n]*remember zebra/); // drawn inverted
      term.write("\x1b[6~\x1b[6~\x1b[6~"); // a key ends the mark; scrolling goes on from the message
      await term.waitFor(/echo: filler three/);
      await backToFleetAndQuit(term);
    });
  }, 60_000);

  it("highlights fenced code, boxes tables and indents nested lists", async () => {
    await withTui(home, SIZE, async (term) => {
      await term.waitFor("● connected");
      await selectChat(term, "md-chat");
      term.write("\r");
      await term.waitFor("Enter sends");
      await term.waitFor(/│ name\s+│ cost │/);
      await term.waitFor(/│ alpha │\s+1\.5 │/);
      await term.waitFor(/^\s*◦ nested/m);
      await term.waitFor(/^• top/m);
      // Highlighted once cli-highlight has loaded: the keyword in magenta, the number in green.
      await waitFor("the code highlighted", () => /\x1b\[35mconst\x1b/.test(term.raw()) && /\x1b\[32m42/.test(term.raw()), 15_000).catch((err) => {
        throw new Error(`${err.message}: ${JSON.stringify(term.raw().slice(term.raw().lastIndexOf("answer") - 300, term.raw().lastIndexOf("answer") + 50))}`);
      });
      await backToFleetAndQuit(term);
    });
  }, 60_000);

  it("creates a checklist, a discussion and a schedule from their screens, as the CLI would", async () => {
    await withTui(home, SIZE, async (term) => {
      await term.waitFor("● connected");
      await term.waitFor(/status: online/);
      await goToScreen(term, "4", /c new checklist/);
      term.write("c");
      await term.waitFor("Name:");
      term.write("groceries\r");
      await term.waitFor(/a add item/);
      term.write("a");
      await term.waitFor(/Add an item|Item:/);
      term.write("milk\r");
      await term.waitFor(/\[ \] milk/);
      term.write("\x1b");
      await term.waitFor(/c new checklist/); // the list of checklists again
      await term.waitFor(/groceries/);

      await goToScreen(term, "6", /o open new/);
      term.write("o");
      await term.waitFor("Key:");
      term.write("standup\r");
      await term.waitFor(/w write/);
      await term.waitFor(/standup/);
      term.write("\x1b");
      await term.waitFor(/o open new/);

      await goToScreen(term, "8", /a add/);
      term.write("a");
      await term.waitFor("Worker:");
      term.write("main\r");
      await term.waitFor("Cron:");
      term.write("0 9 * * 1-5\r");
      await term.waitFor("Prompt:");
      term.write("say good morning\r");
      await term.waitFor(/scheduled /);

      const checklist = await runCli(home, ["checklist", "list", "groceries"]);
      expect(checklist.stdout).toContain("milk");
      expect((await runCli(home, ["discuss", "list"])).stdout).toContain("standup");
      expect((await runCli(home, ["schedule", "list"])).stdout).toContain("0 9 * * 1-5");
      term.write("\t");
      await quit(term);
    });
  }, 60_000);

  // Last: it makes the newest chat, which the tests above find by being the newest.
  it("previews and opens a reply 9 MiB long, and takes keys as usual (it exited on a stack overflow)", async () => {
    const longChat = (await cliJson(home, ["chat", "new", "--worker", worker.id, "--title", "long-chat"])).id;
    await send(longChat, "stream big 9216 kb");
    await withTui(home, SIZE, async (term) => {
      await term.waitFor("● connected");
      await selectNewestChat(term, "long-chat · main", /state: idle/);
      await term.waitFor(/writes on the keeper of the far lighthouse/); // the preview drew the reply
      term.write("\r");
      await term.waitFor("Enter sends");
      term.write("still here");
      await term.waitFor("still here");
      term.write("\t");
      await term.waitFor(/↑↓ move/);
      await quit(term);
    });
  }, 120_000);
});
