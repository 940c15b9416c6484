// Desktop notifications from real turns. The platform's notifier lies outside the product, so a
// stand-in `notify-send` on the daemon's PATH records each call (its arguments, one JSON line).
// Everything else is real: the daemon, OpenCode with the fake model, the CLI.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cleanupHomes, cliJson, createHome, runCli, waitFor } from "../helpers/daemon.js";
import { addSandboxWorker, createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";

let sandbox: OpencodeSandbox;
let home: string;
let bin: string;
let calls: string;
let withNotifier: NodeJS.ProcessEnv;

/** Every call the stand-in notifier received, as its argument lists. */
const notifications = (): string[][] =>
  existsSync(calls)
    ? readFileSync(calls, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as string[])
    : [];

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  bin = mkdtempSync(join(tmpdir(), "ocf-notifier-"));
  calls = join(bin, "calls.jsonl");
  writeFileSync(
    join(bin, "notify-send"),
    `#!${process.execPath}\nrequire("fs").appendFileSync(${JSON.stringify(calls)}, JSON.stringify(process.argv.slice(2)) + "\\n");\n`,
  );
  chmodSync(join(bin, "notify-send"), 0o755);
  withNotifier = { PATH: `${bin}${delimiter}${process.env.PATH}` };
  home = createHome();
  expect((await runCli(home, ["daemon", "start"], { env: withNotifier })).code).toBe(0);
  await addSandboxWorker(home, sandbox, "main");
  await addSandboxWorker(home, sandbox, "asker", { permission: "ask" });
}, 120_000);

afterAll(async () => {
  await cleanupHomes();
  await sandbox?.close();
});

it("says plainly when the daemon's machine has no notifier", async () => {
  const bare = createHome();
  // A PATH with node and nothing else: no notify-send, whatever this machine has installed.
  const onlyNode = mkdtempSync(join(tmpdir(), "ocf-bare-"));
  mkdirSync(onlyNode, { recursive: true });
  const env = { PATH: `${onlyNode}${delimiter}${dirname(process.execPath)}` };
  if (existsSync(join(dirname(process.execPath), "notify-send"))) return; // node's own directory has one: nothing to show
  expect((await runCli(bare, ["daemon", "start"], { env })).code).toBe(0);
  const result = await runCli(bare, ["notify", "desktop", "on"], { env });
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain("this machine has no desktop notifier");
  expect(result.stderr).toContain("notify-send");
});

it("shows a desktop notification when a turn finishes and when a permission waits, with names and never the conversation", async () => {
  const on = await runCli(home, ["notify", "desktop", "on"]);
  expect(on.code, on.stderr).toBe(0);
  expect(on.stdout).toContain("desktop notifications on (through notify-send)");

  const secret = "the launch code is 0000";
  const chat = await cliJson(home, ["chat", "new", "--worker", "main", "--title", secret]);
  const sent = await runCli(home, ["chat", "send", chat.id, secret, "--wait"]);
  expect(sent.code, sent.stderr).toBe(0);
  const done = await waitFor("the turn's notification", () => notifications().find((args) => args.at(-1)?.startsWith("a turn finished")), 30_000);
  expect(done.slice(0, 3)).toEqual(["--app-name=ocfleet", "--", "ocfleet"]);
  expect(done[3]).toMatch(/^a turn finished on worker main \(.+\)$/); // and the machine it is on

  const asking = await cliJson(home, ["chat", "new", "--worker", "asker"]);
  expect((await runCli(home, ["chat", "send", asking.id, "run command echo hi"])).code).toBe(0);
  const waiting = await waitFor("the permission's notification", () => notifications().find((args) => args.at(-1)?.includes("waits for you")), 60_000);
  expect(waiting.at(-1)).toMatch(/^a permission request waits for you on worker asker \(.+\)$/);

  expect(readFileSync(calls, "utf8")).not.toContain(secret);
  expect(readFileSync(calls, "utf8")).not.toContain("echo hi");
}, 120_000);

it("chat send --wait --notify rings the bell and notifies from the CLI's own machine", async () => {
  const chat = await cliJson(home, ["chat", "new", "--worker", "main"]);
  const before = notifications().length;
  const sent = await runCli(home, ["chat", "send", chat.id, "ping", "--wait", "--notify"], { env: withNotifier });
  expect(sent.code, sent.stderr).toBe(0);
  expect(sent.stdout).toBe("echo: ping\n"); // the bell goes to stderr: stdout stays the reply
  expect(sent.stderr).toContain("\x07");
  const mine = notifications()
    .slice(before)
    .filter((args) => !args.at(-1)?.startsWith("a turn finished on worker")); // the daemon's own is there too
  expect(mine.length).toBe(1);
  expect(mine[0]!.join(" ")).not.toContain("ping");
});
