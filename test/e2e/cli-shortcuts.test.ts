// The command line's shortcuts on a real OpenCode (fake model): `ocfleet run` (one prompt, its reply
// streamed, the turn's outcome as the exit code), prompts of several words without quotes, defaults
// from the config file (and the only worker when none is named), and shell completion.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatSummary, MessageView, WorkerView } from "../../src/protocol/api/index.js";
import { BIN, cleanupHomes, cliJson, createHome, runCli } from "../helpers/daemon.js";
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

describe("defaults", () => {
  it("with one worker, --worker may be left out; a configured worker and model are used; bad settings are refused", async () => {
    const xdg = join(sandbox.root, "xdg");
    const env = { XDG_CONFIG_HOME: xdg };
    const alone = await runCli(home, ["chat", "new", "--json"], { env });
    expect(alone.code, alone.stderr).toBe(0);
    expect(JSON.parse(alone.stdout)).toMatchObject({ workerName: "runner" });

    expect((await runCli(home, ["config", "set", "worker", "nosuch"], { env })).code).toBe(0);
    expect((await runCli(home, ["config", "set", "model", "fake/fake-model"], { env })).code).toBe(0);
    expect(JSON.parse(readFileSync(join(xdg, "ocfleet", "config.json"), "utf8"))).toEqual({ worker: "nosuch", model: "fake/fake-model" });
    const configured = await runCli(home, ["chat", "new"], { env });
    expect(configured.code).not.toBe(0);
    expect(configured.stderr).toContain("nosuch");
    expect((await runCli(home, ["config", "get", "worker"], { env })).stdout).toBe("nosuch\n");

    const badKey = await runCli(home, ["config", "set", "colour", "blue"], { env });
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toContain("worker, model, notification, hub");
    expect((await runCli(home, ["config", "set", "model", "no-slash"], { env })).code).toBe(2);

    expect((await runCli(home, ["config", "unset", "worker"], { env })).code).toBe(0);
    const listed = await runCli(home, ["config", "list", "--json"], { env });
    expect(JSON.parse(listed.stdout)).toEqual({ model: "fake/fake-model" });
    const withModel = await runCli(home, ["chat", "new", "--json"], { env });
    expect(JSON.parse(withModel.stdout)).toMatchObject({ workerName: "runner", model: "fake/fake-model" });
  }, 60_000);
});

describe("shell completion", () => {
  /** Runs bash with an `ocfleet` on PATH that is this build, talking to the test's daemon. */
  function bash(script: string): { code: number | null; stdout: string; stderr: string } {
    const bin = join(sandbox.root, "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "ocfleet"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(bin, "ocfleet"), 0o755);
    const result = spawnSync("bash", ["-c", script], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, OCFLEET_HOME: home, NO_COLOR: "1" },
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it("the bash script loads, and completes commands, flags and a worker's name from the daemon", () => {
    const loaded = bash("source <(ocfleet completion bash) && complete -p ocfleet");
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.stdout).toContain("_ocfleet_complete ocfleet");

    const complete = (words: string[]) =>
      bash(
        `source <(ocfleet completion bash); COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _ocfleet_complete; printf '%s\\n' "\${COMPREPLY[@]}"`,
      )
        .stdout.split("\n")
        .filter(Boolean);
    expect(complete(["ocfleet", "ch"])).toEqual(["chat", "checklist"]);
    expect(complete(["ocfleet", "chat", "di"])).toEqual(["diff"]);
    expect(complete(["ocfleet", "chat", "new", "--wor"])).toEqual(["--worker", "--worktree"]);
    expect(complete(["ocfleet", "chat", "new", "--worker", "ru"])).toEqual(["runner"]);
    expect(complete(["ocfleet", "run", "--worker", ""])).toEqual(["runner"]);
  }, 60_000);

  it("prints zsh and fish scripts, and refuses another shell", async () => {
    expect((await runCli(home, ["completion", "zsh"])).stdout).toContain("compdef _ocfleet ocfleet");
    expect((await runCli(home, ["completion", "fish"])).stdout).toContain("complete -c ocfleet");
    expect((await runCli(home, ["completion", "tcsh"])).code).toBe(2);
  });
});
