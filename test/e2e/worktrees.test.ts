// Worktree chats on a real OpenCode (fake model), driven through the CLI: the agent's file lands in
// the chat's worktree, not the checkout; `chat diff` shows it; `chat apply` brings it over
// uncommitted; removing a worktree with uncommitted changes needs --force; no commit is ever made.
// And permission requests that show what they would change: an edit's diff, a command's directory.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { api, type ChatDiff, type ChatSummary, type RequestView, type WorkerView } from "../../src/protocol/api/index.js";
import { cleanupHomes, cliJson, connect, createHome, runCli, waitFor } from "../helpers/daemon.js";
import { addSandboxWorker, createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";

let home: string;
let sandbox: OpencodeSandbox;
let repo: string;
let worker: WorkerView;

const gitIn = (dir: string, ...args: string[]) => execFileSync("git", ["-C", dir, ...args], { encoding: "utf8" });
const git = (...args: string[]) => gitIn(repo, ...args);

function initRepo(dir: string): void {
  gitIn(dir, "init", "-q", "-b", "main");
  writeFileSync(join(dir, "README.md"), "hello\n");
  gitIn(dir, "add", "README.md");
  gitIn(dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "first");
}
const commitCount = () => Number(git("rev-list", "--all", "--count").trim());

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  home = createHome();
  repo = sandbox.project("repo");
  initRepo(repo);
  worker = await addSandboxWorker(home, sandbox, "repo");
}, 90_000);

afterAll(async () => {
  await cleanupHomes();
  await sandbox?.close();
});

describe("a chat in its own worktree", () => {
  it("writes into its worktree, shows the change, applies it uncommitted, and is removed only with --force", async () => {
    const created = await runCli(home, ["chat", "new", "--worker", "repo", "--worktree", "--title", "Fix login"]);
    expect(created.code, created.stderr).toBe(0);
    const chatId = created.stdout.trim();
    const listed = (await cliJson<ChatSummary[]>(home, ["chat", "list"])).find((c) => c.id === chatId)!;
    expect(listed.worktree?.branch).toMatch(/^ocfleet\/fix-login-[a-z0-9]{4}$/);
    const branch = listed.worktree!.branch;
    expect((await runCli(home, ["chat", "list"])).stdout).toContain(branch);
    const worktree = join(home, "worktrees", worker.id, chatId);

    const sent = await runCli(home, ["chat", "send", chatId, "write file hello.txt containing hi there", "--wait"]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(readFileSync(join(worktree, "hello.txt"), "utf8")).toContain("hi there");
    expect(existsSync(join(repo, "hello.txt"))).toBe(false);

    const diff = await runCli(home, ["chat", "diff", chatId]);
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain("+++ b/hello.txt");
    expect(diff.stdout).toContain("+hi there");
    const stat = await runCli(home, ["chat", "diff", chatId, "--stat"]);
    expect(stat.stdout).toMatch(/hello\.txt \| +1 \+/);
    expect(stat.stdout).not.toContain("+hi there");
    const json = await cliJson<ChatDiff>(home, ["chat", "diff", chatId]);
    expect(json).toMatchObject({ source: "worktree", branch, files: [{ path: "hello.txt", added: 1, removed: 0 }] });

    const applied = await runCli(home, ["chat", "apply", chatId]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(readFileSync(join(repo, "hello.txt"), "utf8")).toContain("hi there");
    expect(git("status", "--porcelain")).toBe("?? hello.txt\n");

    const refused = await runCli(home, ["chat", "archive", chatId, "--remove-worktree"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("uncommitted changes");
    expect(existsSync(join(worktree, "hello.txt"))).toBe(true);
    expect((await cliJson<ChatSummary[]>(home, ["chat", "list"])).some((c) => c.id === chatId)).toBe(true);

    const removed = await runCli(home, ["chat", "archive", chatId, "--remove-worktree", "--force"]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(existsSync(worktree)).toBe(false);
    const after = (await cliJson<ChatSummary[]>(home, ["chat", "list", "--all"])).find((c) => c.id === chatId)!;
    expect(after).toMatchObject({ archived: true, worktree: { branch, removed: true } });
    const again = await runCli(home, ["chat", "send", chatId, "more"]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("worktree");

    // Nothing was committed for the user; the only branch made is the worktree's own.
    expect(commitCount()).toBe(1);
    expect(git("branch", "--format=%(refname:short)").split("\n").filter(Boolean).sort()).toEqual([branch, "main"].sort());
  }, 120_000);

  it("refuses a worker whose directory is not a git repository, and a branch name git would not take", async () => {
    await addSandboxWorker(home, sandbox, "plain");
    const plain = await runCli(home, ["chat", "new", "--worker", "plain", "--worktree"]);
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toContain("is not a git repository");

    for (const bad of ["bad..name", "-f", "x; rm -rf ~", "a/.lock/b", "refs/../../x"]) {
      const result = await runCli(home, ["chat", "new", "--worker", "repo", "--worktree", `--branch=${bad}`]);
      expect(result.code, bad).toBe(2);
      expect(result.stderr, bad).toContain("not a valid branch name");
    }
    const before = (await cliJson<ChatSummary[]>(home, ["chat", "list", "--all"])).length;
    expect(before).toBe(1);
    expect(commitCount()).toBe(1);
  }, 90_000);

  it("chat pending shows an edit's diff, and where a command would run: directory, worker and machine", async () => {
    const askerRepo = sandbox.project("asker");
    initRepo(askerRepo);
    const asker = await addSandboxWorker(home, sandbox, "asker", { permission: "ask" });
    const client: FleetConnection = await connect(home);
    let pending: RequestView[] = [];
    const sub = client.subscribe(api.chat.pending, {}, { onValue: (value) => (pending = value) });
    try {
      // An edit in a worktree chat: its request lives in OpenCode's instance for the worktree.
      const inWorktree = (await cliJson<{ id: string }>(home, ["chat", "new", "--worker", "asker", "--worktree"])).id;
      await client.call(api.chat.send, { chat: inWorktree, text: "write file notes.txt containing first line of notes" });
      const edit = await waitFor("the edit permission", () => pending.find((r) => r.chatId === inWorktree), 45_000);
      const shown = await runCli(home, ["chat", "pending"]);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toContain(edit.id);
      expect(shown.stdout).toContain("notes.txt");
      expect(shown.stdout).toContain("+first line of notes");
      const permitted = await runCli(home, ["chat", "permit", edit.id, "once"]);
      expect(permitted.code, permitted.stderr).toBe(0);
      const worktree = join(home, "worktrees", asker.id, inWorktree);
      await waitFor("the file in the worktree", () => existsSync(join(worktree, "notes.txt")), 45_000);
      expect(existsSync(join(askerRepo, "notes.txt"))).toBe(false);

      // A command in a chat on the worker's checkout.
      const shared = (await cliJson<{ id: string }>(home, ["chat", "new", "--worker", "asker"])).id;
      await client.call(api.chat.send, { chat: shared, text: "run command echo from-the-agent" });
      const bash = await waitFor("the bash permission", () => pending.find((r) => r.chatId === shared), 45_000);
      const listed = await runCli(home, ["chat", "pending"]);
      expect(listed.stdout).toContain("echo from-the-agent");
      expect(listed.stdout).toMatch(new RegExp(`runs in ${askerRepo.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} on worker asker \\(machine .+\\)`));
      expect((await runCli(home, ["chat", "permit", bash.id, "reject"])).code).toBe(0);
    } finally {
      sub.unsubscribe();
      client.close();
    }
  }, 120_000);

  it("chat diff on a chat in the worker's checkout shows OpenCode's session diff", async () => {
    // OpenCode's session diff needs its snapshots, which the sandbox's config turns off for speed.
    const directory = sandbox.project("snapshots");
    initRepo(directory);
    await addSandboxWorker(home, sandbox, "snapshots", { snapshots: true });
    const chatId = (await runCli(home, ["chat", "new", "--worker", "snapshots"])).stdout.trim();
    const sent = await runCli(home, ["chat", "send", chatId, "write file shared.txt containing in the checkout", "--wait"]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(existsSync(join(directory, "shared.txt"))).toBe(true);
    const diff = await cliJson<ChatDiff>(home, ["chat", "diff", chatId]);
    expect(diff).toMatchObject({ source: "session", branch: null });
    expect(diff.files.map((f) => f.path)).toEqual(["shared.txt"]);
    expect(diff.patch).toContain("+in the checkout");
    const human = await runCli(home, ["chat", "diff", chatId]);
    expect(human.stdout).toContain("+in the checkout");
    expect(human.stdout).toContain("session edited");
  }, 120_000);

  it("a worker can make worktrees its chats' default; --no-worktree still shares the checkout", async () => {
    const on = await runCli(home, ["worker", "worktrees", "repo", "on"]);
    expect(on.code, on.stderr).toBe(0);
    const byDefault = await cliJson<{ id: string; worktree: { branch: string } | null }>(home, ["chat", "new", "--worker", "repo", "--title", "by default"]);
    expect(byDefault.worktree?.branch).toMatch(/^ocfleet\/by-default-[a-z0-9]{4}$/);
    expect(existsSync(join(home, "worktrees", worker.id, byDefault.id))).toBe(true);
    const shared = await cliJson<{ worktree: unknown }>(home, ["chat", "new", "--worker", "repo", "--no-worktree"]);
    expect(shared.worktree).toBeNull();
    expect((await runCli(home, ["worker", "worktrees", "repo", "sometimes"])).code).toBe(2);
    expect((await runCli(home, ["worker", "worktrees", "repo", "off"])).code).toBe(0);
    expect((await cliJson<{ worktree: unknown }>(home, ["chat", "new", "--worker", "repo"])).worktree).toBeNull();
    expect(commitCount()).toBe(1);
  }, 60_000);
});
