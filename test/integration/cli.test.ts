// The command line as scripts and people meet it: usage errors in their words, watches that end,
// the flags Node must not take for its own, what a command loads, and text from others that never
// reaches the terminal raw.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { api } from "../../src/protocol/api/index.js";
import { BIN, type CliResult, cleanupHomes, cliJson, createHome, killDaemon, runCli, startCli, twoUsers } from "../helpers/daemon.js";
import { expectNoControls, HOSTILE } from "../helpers/hostile.js";

let home: string;
let owner: FleetConnection;
let plain: FleetConnection;
beforeAll(async () => {
  home = createHome();
  ({ owner, plain } = await twoUsers(home));
});
afterAll(async () => {
  owner?.close();
  plain?.close();
  await cleanupHomes();
});

describe("usage errors name what the user typed", () => {
  it("an empty checklist key is a usage error about <key>, not about checklists.addItem", async () => {
    const result = await runCli(home, ["checklist", "add", "", "x"]);
    expect(result).toMatchObject({ code: 2, stdout: "", stderr: "ocfleet: <key>: must not be empty\n" });
    const json = await runCli(home, ["checklist", "add", "", "x", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: "invalid_argument", method: "checklists.addItem", field: "key" } });
  });

  it("a presentation id of the wrong kind is a usage error about <id>", async () => {
    const result = await runCli(home, ["present", "follow", "prs_nosuch"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("ocfleet: <id>: must be a prs_… id\n");
  });

  it("moving an item past the end of its checklist is an error, not a silent clamp", async () => {
    await cliJson(home, ["checklist", "add", "one", "only item"]);
    const result = await runCli(home, ["checklist", "move", "one", "1", "5"]);
    expect(result).toMatchObject({ code: 2, stderr: "ocfleet: <position>: must be from 1 to 1 ('one' has 1 item(s))\n" });
    await cliJson(home, ["checklist", "move", "one", "1", "1"]);
  });
});

describe("scripts", () => {
  it("ocfleet --version prints the version, as -V does", async () => {
    const long = await runCli(home, ["--version"]);
    const short = await runCli(home, ["-V"]);
    expect(long.code).toBe(0);
    expect(long.stdout).toMatch(/^\d+\.\d+\.\d+\+\w+\n$/);
    expect(short.stdout).toBe(long.stdout);
  });

  it("version --json talks to the running daemon without loading node:crypto (3–5 ms of every command's start)", async () => {
    const hook = join(mkdtempSync(join(tmpdir(), "ocf-hook-")), "modules.mjs");
    writeFileSync(hook, 'process.on("exit", () => process.stderr.write("modules: " + JSON.stringify(process.moduleLoadList) + "\\n"));\n');
    const nodeOptions = `${process.env.NODE_OPTIONS ?? ""} --import ${pathToFileURL(hook).href}`;
    const result = await runCli(home, ["version", "--json"], { env: { NODE_OPTIONS: nodeOptions } });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).daemon.running).toBe(true);
    const modules: string[] = JSON.parse(/^modules: (.*)$/m.exec(result.stderr)?.[1] ?? "null");
    expect(modules).toContain("NativeModule net");
    expect(modules.filter((name) => /crypto/.test(name))).toEqual([]);
  });

  it("--json before the command word is the same as after it", async () => {
    await cliJson(home, ["checklist", "add", "order", "first"]);
    const before = await runCli(home, ["--json", "checklist", "list", "order"]);
    expect(before.code, before.stderr).toBe(0);
    expect(JSON.parse(before.stdout)).toEqual(await cliJson(home, ["checklist", "list", "order"]));
    const workers = await runCli(home, ["--json", "worker", "list"]);
    expect(JSON.parse(workers.stdout)).toEqual([]);
  });

  it("--env-file reaches ocfleet, not Node, when ocfleet is run as a command", async () => {
    // As npm links it: the file itself is executed, and its #! line starts Node.
    const bin = mkdtempSync(join(tmpdir(), "ocf-bin-"));
    const result = await new Promise<CliResult>((resolve, reject) => {
      const child = spawn(BIN, ["worker", "add", bin, "--env-file", "/nonexistent/missing.env"], {
        env: { ...process.env, NO_COLOR: "1", OCFLEET_HOME: home, PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => (stdout += chunk));
      child.stderr.on("data", (chunk) => (stderr += chunk));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
    expect(result.stderr).toContain("ocfleet: cannot read --env-file /nonexistent/missing.env");
    expect(result.code).toBe(2);
  });
});

describe("watches end when there is nothing to watch", () => {
  it("chat watch of an unknown chat exits non-zero at once, saying so once", async () => {
    const result = await runCli(home, ["chat", "watch", "cht_0000000000000000"], { timeoutMs: 15_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("ocfleet: no chat 'cht_0000000000000000' (see: ocfleet chat list)\n");
  });

  it("schedule watch of an unknown schedule exits non-zero at once, saying so once", async () => {
    const result = await runCli(home, ["schedule", "watch", "nope"], { timeoutMs: 15_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("ocfleet: no schedule 'nope' (see: ocfleet schedule list)\n");
  });

  it("present follow ends by itself when the presentation stops", async () => {
    const deck = join(mkdtempSync(join(tmpdir(), "ocf-deck-")), "talk.md");
    writeFileSync(deck, "# One\n---\n# Two\n");
    const started = await cliJson(home, ["present", "start", deck]);
    const follow = startCli(home, ["present", "follow", started.id]);
    await follow.waitForOutput(/slide 1\/2/);
    await cliJson(home, ["present", "stop", started.id]);
    const result = await follow.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("ended");
  });
});

describe("text from others never reaches the terminal raw", () => {
  it("checklist, attendance, discussion and presentation views show control bytes visibly; --json keeps them exactly", async () => {
    await plain.call(api.checklists.addItem, { key: "evil", text: HOSTILE });
    await plain.call(api.attendance.mark, { key: "evil", status: "absent", reason: HOSTILE });
    await plain.call(api.discussions.open, { key: "evil", title: HOSTILE });
    await plain.call(api.discussions.post, { key: "evil", text: `${HOSTILE}\nsecond line` });
    await plain.call(api.discussions.conclude, { key: "evil", conclusion: HOSTILE, tags: ["note"] });
    const deck = join(mkdtempSync(join(tmpdir(), "ocf-deck-")), "evil.md");
    writeFileSync(deck, `# ${HOSTILE}\n\n${HOSTILE}\n`);
    const presentation = await cliJson(home, ["present", "start", deck]);

    const views = [
      ["checklist", "list", "evil"],
      ["attendance", "list", "evil"],
      ["discuss", "show", "evil"],
      ["discuss", "list"],
      ["present", "show", presentation.id],
      ["present", "list"],
    ];
    for (const args of views) {
      const result = await runCli(home, args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
      expectNoControls(result);
      expect(result.stdout, args.join(" ")).toContain("^[]52;c;SGVsbG8=^[\\");
    }
    const follow = startCli(home, ["present", "follow", presentation.id]);
    await follow.waitForOutput(/slide 1\/1/);
    await cliJson(home, ["present", "stop", presentation.id]);
    const followed = await follow.done;
    expectNoControls(followed);
    expect(followed.stdout).toContain("^[]0;owned^G");

    expect((await cliJson(home, ["checklist", "list", "evil"])).items[0].text).toBe(HOSTILE);
    expect((await cliJson(home, ["attendance", "list", "evil"])).entries[0].reason).toBe(HOSTILE);
    const discussion = await cliJson(home, ["discuss", "show", "evil"]);
    expect([discussion.title, discussion.messages[0].text, discussion.conclusions[0].text]).toEqual([HOSTILE, `${HOSTILE}\nsecond line`, HOSTILE]);
  });

  it("an error that quotes text it was given shows it safely too", async () => {
    const result = await runCli(home, ["present", "start", join(tmpdir(), `${HOSTILE}.md`)]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("^[]0;owned^G");
    expectNoControls(result);
  });
});

describe("a watch and a restarting daemon", () => {
  it("keeps watching across a daemon killed and started again, and shows what changed after", async () => {
    await cliJson(home, ["checklist", "add", "restart", "before"]);
    const watch = startCli(home, ["checklist", "watch", "restart"]);
    await watch.waitForOutput(/1\. \[ \] before/);
    await killDaemon(home, "SIGKILL");
    await watch.waitForOutput(/lost the daemon; reconnecting/);
    await cliJson(home, ["checklist", "add", "restart", "after"]); // starts a new daemon
    await watch.waitForOutput(/2\. \[ \] after/, 30_000);
    watch.child.kill("SIGINT");
    const result = await watch.done;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("ocfleet: reconnected");
    expect(result.stderr).not.toContain("went away");
  });
});
