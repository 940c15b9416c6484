// The chat commands on a real OpenCode, as scripts and people use them: what goes to stdout, what a
// hostile reply or directory name can do to the terminal (nothing), questions answered by number,
// and a daemon that dies while a reply streams.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { api, type ChatView, type WorkerView } from "../../src/protocol/api/index.js";
import { ID_BODY_PATTERN } from "../../src/protocol/ids.js";
import { cleanupHomes, cliJson, connect, createHome, daemonState, runCli, startCli } from "../helpers/daemon.js";
import { untilLive } from "../helpers/live.js";
import { addSandboxWorker, createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";
import { expectNoControls, HOSTILE } from "../helpers/hostile.js";

let home: string;
let sandbox: OpencodeSandbox;
let client: FleetConnection;
let worker: WorkerView;

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  home = createHome();
  client = await connect(home);
  worker = await addSandboxWorker(home, sandbox, "main");
}, 90_000);

afterAll(async () => {
  client?.close();
  await cleanupHomes();
  await sandbox?.close();
});

const waitForChat = (chatId: string, until: (chat: ChatView) => boolean) => untilLive(client, api.chat.get, { chat: chatId }, until);

describe("chat from the command line", () => {
  it("chat new prints only the id on stdout, so $(ocfleet chat new …) captures it; the hint goes to stderr", async () => {
    const created = await runCli(home, ["chat", "new", "--worker", "main"]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(new RegExp(`^cht_${ID_BODY_PATTERN}\\n$`));
    expect(created.stderr).toContain(`send with: ocfleet chat send ${created.stdout.trim()}`);
  });

  it("a reply and a chat title holding escape sequences reach the terminal only as visible text; --json keeps them", async () => {
    const chatId = (await client.call(api.chat.create, { worker: worker.name })).id;
    const watch = startCli(home, ["chat", "watch", chatId]);
    const sent = await runCli(home, ["chat", "send", chatId, HOSTILE, "--wait"]);
    expect(sent.code, sent.stderr).toBe(0);
    expectNoControls(sent);
    expect(sent.stdout).toContain("echo: pwn^[]52;c;SGVsbG8=^[\\ ^[]0;owned^G ^[[2J <9b>31m end");

    await watch.waitForOutput(/fake\/fake-model/);
    watch.child.kill("SIGINT");
    const watched = await watch.done;
    expect(watched.code).toBe(0);
    expectNoControls(watched);
    expect(watched.stdout).toContain("echo: pwn^[]52");

    for (const args of [
      ["chat", "show", chatId],
      ["chat", "list"],
      ["chat", "pending"],
    ]) {
      const result = await runCli(home, args);
      expect(result.code, result.stderr).toBe(0);
      expectNoControls(result);
    }
    const json = await runCli(home, ["chat", "send", chatId, HOSTILE, "--wait", "--json"]);
    const reply = JSON.parse(json.stdout);
    expect(reply.parts.find((p: { kind: string }) => p.kind === "text").text).toBe(`echo: ${HOSTILE}`);
  });

  it("a worker whose directory name holds escape sequences is listed safely; --json keeps the name", async () => {
    const directory = sandbox.project(`dir ${HOSTILE.replace(/\//g, "")}`);
    const added = await cliJson<WorkerView>(home, ["worker", "add", directory, "--no-wait", "--env-file", sandbox.envFile("main")]);
    expect(added.directory).toBe(directory);
    const listed = await runCli(home, ["worker", "list"]);
    expect(listed.code, listed.stderr).toBe(0);
    expectNoControls(listed);
    expect(listed.stdout).toContain("^[]0;owned^G");
    const json = await cliJson<WorkerView[]>(home, ["worker", "list"]);
    expect(json.find((w) => w.id === added.id)).toMatchObject({ name: added.name, directory });
    await cliJson(home, ["worker", "remove", added.id]);
  });

  it("chat answer refuses an option number a question does not have, and takes your own words with --custom", async () => {
    const chatId = (await client.call(api.chat.create, { worker: worker.name })).id;
    await client.call(api.chat.send, { chat: chatId, text: "please ask me a question" });
    const request = (await waitForChat(chatId, (c) => c.requests.length === 1)).requests[0]!;
    const wrong = await runCli(home, ["chat", "answer", request.id, "5"]);
    expect(wrong).toMatchObject({ code: 2, stderr: `ocfleet: <answers>: question 1 has no option 5; give 1 to 2, or your own text with --custom "…"\n` });
    expect((await client.call(api.chat.get, { chat: chatId })).requests).toHaveLength(1); // nothing was sent
    const custom = await runCli(home, ["chat", "answer", request.id, "--custom", "5", "--json"]);
    expect(custom.code, custom.stderr).toBe(0);
    expect(JSON.parse(custom.stdout)).toMatchObject({ status: "answered", answer: [["5"]] });
  });

  it("chat send --wait exits non-zero and says the daemon went away when it dies mid-reply", async () => {
    const chatId = (await client.call(api.chat.create, { worker: worker.name })).id;
    const sending = startCli(home, ["chat", "send", chatId, "stream slowly", "--wait"]);
    await sending.waitForOutput(/slow 2 /);
    process.kill(daemonState(home)!.pid, "SIGKILL");
    const result = await sending.done;
    expect(result.stdout).toContain("slow 2 ");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ocfleet: the daemon went away/m);
  });
});
