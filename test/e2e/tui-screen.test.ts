// The TUI's screen model in real terminals: it owns the alternate screen, so opening and leaving
// chats many times cannot crash it, resizing while a reply streams leaves no ghosts, and the
// shell's scrollback is exactly as it was after it quits.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkerView } from "../../src/protocol/api/index.js";
import { BIN, cleanupHomes, cliJson, createHome, runCli, waitFor } from "../helpers/daemon.js";
import { addSandboxWorker, createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";
import type { PtySession } from "../helpers/pty.js";
import { quit, selectNewestChat, withTui } from "../helpers/tui.js";

let home: string;
let sandbox: OpencodeSandbox;
let worker: WorkerView;
let chatId: string;

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  home = createHome();
  expect((await runCli(home, ["daemon", "start"])).code).toBe(0);
  worker = await addSandboxWorker(home, sandbox, "main", { project: "tui-screen" });
  chatId = (await cliJson(home, ["chat", "new", "--worker", worker.id, "--title", "long-chat"])).id;
  for (const text of ["first message", "second message", "third message"]) expect((await runCli(home, ["chat", "send", chatId, text, "--wait"])).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await cleanupHomes();
  await sandbox?.close();
});

/** Machine → worker → the chat. */
const selectChat = (term: PtySession) => selectNewestChat(term, /long-chat · main/, /state: idle/);

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

describe("the TUI's screen", () => {
  it("survives opening and leaving a chat 50 times with resizes in between, with flat memory", async () => {
    await withTui(home, { cols: 110, rows: 30 }, async (term) => {
      await term.waitFor("● connected");
      await selectChat(term);
      let baseline = 0;
      for (let round = 1; round <= 50; round++) {
        term.write("\r");
        await term.waitFor("echo: third message");
        if (round === 1) await term.waitFor(/── long-chat · main on \S+ · 36 in \/ 21 out · cht_/); // the chat's usage so far
        await term.waitFor("Enter sends");
        if (round % 5 === 0) {
          term.resize(round % 10 === 0 ? 110 : 84, round % 10 === 0 ? 30 : 26);
          await term.waitFor("Enter sends");
        }
        term.write("\t");
        await term.waitFor(/long-chat · main · \w+/); // the fleet's preview of the chat
        if (round === 10) baseline = rssMb(term.pty.pid);
      }
      expect(rssMb(term.pty.pid) - baseline).toBeLessThan(60);
      await quit(term);
    });
  }, 180_000);

  it("reads only a chat's newest messages, and says at the top that older ones are left out", async () => {
    // Two messages kept (the chat has six; 500 by default): the third exchange, and the note.
    await withTui(home, { cols: 110, rows: 30, env: { OCFLEET_TUI_MESSAGES: "2" } }, async (term) => {
      await term.waitFor("● connected");
      await selectChat(term);
      term.write("\r");
      await term.waitFor("echo: third message");
      await term.waitFor(`Older messages are not shown here; all of them: ocfleet chat show ${chatId}`);
      const screen = term.screen().join("\n");
      expect(screen).toContain("third message");
      expect(screen).not.toContain("second message");
      term.write("\t");
      await term.waitFor(/long-chat · main · \w+/);
      await quit(term);
    });
  }, 60_000);

  it("leaves no ghost copies of the composer or the reply when resized while a reply streams", async () => {
    await withTui(home, { cols: 110, rows: 30 }, async (term) => {
      await term.waitFor("● connected");
      await selectChat(term);
      term.write("\r");
      await term.waitFor("Enter sends");
      term.write("please stream slowly\r");
      await term.waitFor(/slow\s3\s/);
      term.resize(90, 28);
      await term.waitFor(/slow\s12\s/);
      term.resize(120, 32);
      await term.waitFor(/slow\s20\s/);
      term.resize(80, 24);
      await term.waitFor(/slow\s39/);
      await term.waitFor(/fake\/fake-model · \d+ in/);
      const all = term.buffer();
      expect(all.filter((line) => /Message — Enter sends/.test(line))).toHaveLength(1);
      expect(all.filter((line) => line.includes("slow 0 "))).toHaveLength(1);
      expect(all.filter((line) => line.includes("› please stream slowly"))).toHaveLength(1);
      term.write("\t");
      await term.waitFor(/long-chat · main · \w+/);
      await quit(term);
    });
  }, 60_000);
});

describe("the shell's scrollback (tmux)", () => {
  const socket = `ocf-tui-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync("tmux", ["-L", socket, "-f", "/dev/null", ...args], { encoding: "utf8" });
  const capture = () => tmux("capture-pane", "-p", "-t", "shell");
  const history = () => tmux("capture-pane", "-p", "-t", "shell", "-S", "-", "-E", "-1");
  const historySize = () => Number(tmux("display-message", "-p", "-t", "shell", "#{history_size}").trim());
  const keys = (...k: string[]) => tmux("send-keys", "-t", "shell", ...k);
  const showing = (pattern: RegExp, timeoutMs = 15_000) => waitFor(`tmux shows ${pattern}`, () => pattern.test(capture()), timeoutMs);

  afterAll(() => {
    try {
      tmux("kill-server");
    } catch {
      // already gone
    }
  });

  it("is the same before and after running the TUI, through help, chats and toggles", async () => {
    tmux(
      "new-session",
      "-d",
      "-s",
      "shell",
      "-x",
      "100",
      "-y",
      "30",
      "env",
      "-i",
      `PATH=${process.env.PATH}`,
      "TERM=xterm-256color",
      "PS1=$ ",
      "bash",
      "--norc",
      "--noprofile",
    );
    keys("for i in $(seq 1 100); do echo history line $i; done", "Enter");
    await showing(/history line 100/);
    await waitFor("the history to hold the lines", () => historySize() >= 70);
    const before = history();
    const sizeBefore = historySize();

    keys("-l", `OCFLEET_HOME=${home} CI=true ${process.execPath} ${BIN}`);
    keys("Enter");
    await showing(/● connected/);
    keys("?");
    await showing(/Keys/);
    keys("Escape");
    await showing(/status: online/); // the help is closed (Esc and j in one read would be Alt+J)
    keys("j");
    await showing(/state: idle/);
    keys("j");
    await showing(/long-chat · main/);
    keys("Enter");
    await showing(/Enter sends/);
    tmux("resize-window", "-t", "shell", "-x", "100", "-y", "22"); // a frame as tall as the window must not wipe the history
    await showing(/Enter sends/);
    keys("C-t");
    keys("C-r");
    await showing(/reasoning on/);
    keys("Tab");
    await showing(/long-chat · main · \w+/);
    keys("q");
    await showing(/^\$\s*$/m);

    // The history holds what it held (the command line that started the TUI may have pushed a
    // few more shell lines into it), and nothing the TUI drew.
    const after = history();
    expect(historySize()).toBeGreaterThanOrEqual(sizeBefore);
    expect(after.startsWith(before)).toBe(true);
    expect(after).not.toMatch(/● connected|Keys|Enter sends|long-chat/);
    expect(capture()).toContain("history line 100");
  }, 60_000);
});
