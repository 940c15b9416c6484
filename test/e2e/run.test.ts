// ocfleet run on a real OpenCode (fake model): one prompt, its reply streamed, and the turn's outcome
// as the exit code; prompts of several words need no quotes (run and chat send).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatSummary, MessageView, WorkerView } from "../../src/protocol/api/index.js";
import { cleanupHomes, cliJson, createHome, runCli } from "../helpers/daemon.js";
import { addSandboxWorker, createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";

let home: string;
let sandbox: OpencodeSandbox;
let repo: string;
let worker: WorkerView;

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  home = createHome();
  repo = sandbox.project("runner");
  execFileSync("git", ["init", "-q", "-b", "main"], { cwd: repo });
  writeFileSync(join(repo, "README.md"), "hello\n");
  execFileSync("git", ["add", "."], { cwd: repo });
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "first"], { cwd: repo });
  worker = await addSandboxWorker(home, sandbox, "runner");
}, 90_000);

afterAll(async () => {
  await cleanupHomes();
  await sandbox?.close();
});

describe("ocfleet run", () => {
  it("streams the reply of a prompt given as several words, and exits 0", async () => {
    const result = await runCli(home, ["run", "say", "hello", "to", "everyone", "--worker", "runner"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("echo: say hello to everyone");
    expect(result.stderr).toMatch(/chat cht_\w+ on runner/);
  }, 60_000);

  it("exits non-zero when the turn fails, and --json gives the reply", async () => {
    const result = await runCli(home, ["run", "fail with 400", "--worker", "runner", "--json"]);
    expect(result.code).toBe(1);
    const { reply } = JSON.parse(result.stdout) as { chatId: string; reply: MessageView };
    expect(reply.status).toBe("error");
  }, 60_000);

  it("--worktree runs in a new worktree of the worker's repository", async () => {
    const result = await runCli(home, ["run", "write", "file", "made.txt", "containing", "by", "run", "--worker", "runner", "--worktree", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const { chatId } = JSON.parse(result.stdout) as { chatId: string };
    expect(readFileSync(join(home, "worktrees", worker.id, chatId, "made.txt"), "utf8")).toContain("by run");
    expect(existsSync(join(repo, "made.txt"))).toBe(false);
    const chat = (await cliJson<ChatSummary[]>(home, ["chat", "list"])).find((c) => c.id === chatId);
    expect(chat?.worktree?.branch).toMatch(/^ocfleet\/chat-[a-z0-9]{4}$/);
  }, 60_000);

  it("chat send takes several words without quotes", async () => {
    const chatId = (await runCli(home, ["chat", "new", "--worker", "runner"])).stdout.trim();
    const sent = await runCli(home, ["chat", "send", chatId, "two", "words", "--wait"]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain("echo: two words");
  }, 60_000);
});
