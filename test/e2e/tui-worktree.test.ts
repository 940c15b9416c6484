// The TUI with a worktree chat, in a real terminal: the tree and the chat show its branch, and
// Ctrl+D in the chat opens what it changed. And what chats cost: each chat's in the tree, today's in
// the status bar, live.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupHomes, cliJson, createHome, runCli } from "../helpers/daemon.js";
import { addSandboxWorker, createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";
import { backToFleetAndQuit, quit, search, selectNewestChat, withTui } from "../helpers/tui.js";

let home: string;
let sandbox: OpencodeSandbox;

const gitIn = (dir: string, ...args: string[]) => execFileSync("git", ["-C", dir, ...args], { encoding: "utf8" });

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  home = createHome();
  expect((await runCli(home, ["daemon", "start"])).code).toBe(0);
  const repo = sandbox.project("repo");
  gitIn(repo, "init", "-q", "-b", "main");
  writeFileSync(join(repo, "README.md"), "hello\n");
  gitIn(repo, "add", "README.md");
  gitIn(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "first");
  await addSandboxWorker(home, sandbox, "repo");
}, 90_000);

afterAll(async () => {
  await cleanupHomes();
  await sandbox?.close();
});

const SIZE = { cols: 140, rows: 36 };

describe("a worktree chat in the TUI", () => {
  it("shows its branch in the tree and the chat's header, and Ctrl+D shows what it changed", async () => {
    const created = await runCli(home, ["chat", "new", "--worker", "repo", "--worktree", "--title", "Fix login"]);
    expect(created.code, created.stderr).toBe(0);
    const chatId = created.stdout.trim();
    const branch = (await cliJson<Array<{ id: string; worktree: { branch: string } | null }>>(home, ["chat", "list"])).find((c) => c.id === chatId)!.worktree!
      .branch;
    const sent = await runCli(home, ["chat", "send", chatId, "write file hello.txt containing hi there", "--wait"]);
    expect(sent.code, sent.stderr).toBe(0);

    await withTui(home, SIZE, async (term) => {
      await term.waitFor(new RegExp(`Fix login ⎇ ${branch.slice(0, 12)}`));
      await selectNewestChat(term, `· repo · ⎇ ${branch} ·`);
      term.write("\r");
      await term.waitFor(new RegExp(`Fix login · repo on \\S+ · ⎇ ${branch}`));
      term.write("\x04"); // Ctrl+D: what the chat changed
      await term.waitFor(`changes of ${chatId} · ⎇ ${branch}`);
      await term.waitFor(/hello\.txt\s+\|\s+1 \+/); // git's stat line
      await term.waitFor("1 file(s), +1 -0");
      await term.waitFor("+++ b/hello.txt");
      await term.waitFor("+hi there");
      expect(term.raw()).toMatch(/\x1b\[32m\+hi there/); // green
      term.write("\x1b"); // Esc: back to the chat
      await term.waitFor(/Enter sends/);
      await backToFleetAndQuit(term);
    });
  }, 90_000);

  it("shows each chat's and each worker's cost in the tree and today's in the status bar, as replies come in", async () => {
    // The fake model priced at $1000 per million tokens: a reply of 12 in and 7 out costs $0.019.
    await addSandboxWorker(home, sandbox, "priced", { costPerMillionTokens: 1000 });
    const chatId = (await cliJson(home, ["chat", "new", "--worker", "priced", "--title", "costly"])).id as string;
    await withTui(home, SIZE, async (term) => {
      await term.waitFor(/costly/);
      await term.waitFor("● connected");
      expect(term.screen().join("\n")).not.toContain("today");
      const sent = await runCli(home, ["chat", "send", chatId, "short", "--wait"]);
      expect(sent.code, sent.stderr).toBe(0);
      await term.waitFor(/costly \$0\.02/);
      await term.waitFor(/■ priced idle \$0\.02/); // the worker's: what all its chats cost
      await term.waitFor("$0.02 today");
      await quit(term);
    });
  }, 90_000);

  it("/ searches messages as you type, and Enter opens the chat of the one selected", async () => {
    await withTui(home, SIZE, async (term) => {
      await term.waitFor(/Fix login/);
      // "hell": a prefix of a word in a prompt of "Fix login" only, in no title.
      await search(term, "hell", /Fix login · repo · user .*hello/);
      term.write("\r");
      await term.waitFor(/Fix login · repo on \S+/);
      await backToFleetAndQuit(term);
    });
  }, 60_000);
});
