// The worker access model with real users and a real OpenCode (fake model): a worker is its
// owner's; the owner and admins control it, others use it only once shared; environment and
// binary are for admins. And what `worker remove` does to chats (kept) and schedules (refused,
// or removed with --force), and start/stop on a worker already in that state.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { api, type ChatSummary, type MessageView, type WorkerView } from "../../src/protocol/api/index.js";
import { cleanupHomes, cliJson, connectAsOwner, connectWithSession, createHome, runCli } from "../helpers/daemon.js";
import { addSandboxWorker, createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";

let home: string;
let sandbox: OpencodeSandbox;
let admin: FleetConnection;
let alice: FleetConnection;
let bob: FleetConnection;
let aliceName: string;
let bobName: string;

async function signUp(): Promise<{ connection: FleetConnection; name: string }> {
  const connection = await connectWithSession(home);
  const { user } = await connection.call(api.auth.loginAnonymous, {});
  return { connection, name: user.name };
}

/** Resolves once the chat holds a finished reply, watching its messages live. */
function replyIn(connection: FleetConnection, chat: string, timeoutMs = 30_000): Promise<MessageView> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no reply")), timeoutMs);
    const sub = connection.subscribe(
      api.chat.messages,
      { chat },
      {
        onValue: (messages) => {
          const reply = messages.find((m) => m.role === "assistant" && m.status === "completed");
          if (reply) {
            clearTimeout(timer);
            sub.unsubscribe();
            resolve(reply);
          }
        },
        onError: reject,
      },
    );
  });
}

/** Resolves once the worker is idle, watching it live. */
function idle(connection: FleetConnection, worker: string, timeoutMs = 45_000): Promise<WorkerView> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${worker} did not become idle`)), timeoutMs);
    const sub = connection.subscribe(
      api.workers.get,
      { worker },
      {
        onValue: (view) => {
          if (view.runState === "idle") {
            clearTimeout(timer);
            sub.unsubscribe();
            resolve(view);
          }
        },
        onError: reject,
      },
    );
  });
}

const codeOf = (call: Promise<unknown>) =>
  call.then(
    () => "ok",
    (err: { code?: string }) => err.code,
  );

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  home = createHome();
  // Workers of users who may not set an environment run with the daemon's: point it at the fake model.
  const started = await runCli(home, ["daemon", "start"], { env: sandbox.env("daemon") });
  expect(started.code, started.stderr).toBe(0);
  admin = await connectAsOwner(home);
  ({ connection: alice, name: aliceName } = await signUp());
  ({ connection: bob, name: bobName } = await signUp());
});

afterAll(async () => {
  for (const c of [admin, alice, bob]) c?.close();
  await cleanupHomes();
  await sandbox?.close();
});

describe("who may do what with a worker", () => {
  let worker: WorkerView;

  it("lets only admins set a worker's environment or OpenCode binary", async () => {
    const env = alice.call(api.workers.add, { directory: sandbox.project("env"), env: { LD_PRELOAD: "/tmp/x.so" } });
    await expect(env).rejects.toMatchObject({ code: "permission_denied", message: expect.stringMatching(/can only be set by an admin/) });
    const binary = alice.call(api.workers.add, { directory: sandbox.project("bin"), opencodeBinary: "/bin/sh" });
    await expect(binary).rejects.toMatchObject({ code: "permission_denied", message: expect.stringMatching(/--opencode-bin can only be set by an admin/) });
    expect(await admin.call(api.workers.list, {})).toEqual([]);
  });

  it("keeps a worker invisible to other users until its owner shares it", async () => {
    worker = await alice.call(api.workers.add, { directory: sandbox.project("alices"), name: "alices" });
    expect(worker).toMatchObject({ createdBy: aliceName, sharedWith: [], sharedWithEveryone: false });

    expect(await bob.call(api.workers.list, {})).toEqual([]);
    for (const call of [
      () => bob.call(api.workers.get, { worker: "alices" }),
      () => bob.call(api.chat.create, { worker: "alices" }),
      () => bob.call(api.workers.readLog, { worker: "alices" }),
      () => bob.call(api.workers.stop, { worker: "alices" }),
      () => bob.call(api.workerModels.list, { worker: "alices" }),
    ]) {
      expect(await codeOf(call())).toBe("not_found");
    }
    const [machine] = await bob.call(api.machines.list, {});
    expect(machine!.workers.total).toBe(0);
    // An admin sees and controls every worker, and reads its logs.
    expect((await admin.call(api.workers.list, {})).map((w) => w.name)).toEqual(["alices"]);
    expect(await codeOf(admin.call(api.workers.readLog, { worker: "alices" }))).toBe("ok");
  });

  it("lets a user it is shared with chat on it, but not control it; unsharing ends that", async () => {
    expect(await codeOf(bob.call(api.workers.share, { worker: "alices", with: bobName }))).toBe("not_found");
    const shared = await alice.call(api.workers.share, { worker: "alices", with: bobName });
    expect(shared.sharedWith).toEqual([bobName]);

    expect((await bob.call(api.workers.list, {})).map((w) => w.name)).toEqual(["alices"]);
    await idle(bob, "alices");
    const chat = await bob.call(api.chat.create, { worker: "alices" });
    await bob.call(api.chat.send, { chat: chat.id, text: "hello" });
    expect((await replyIn(bob, chat.id)).parts.some((p) => p.kind === "text")).toBe(true);

    for (const [call, what] of [
      [() => bob.call(api.workers.stop, { worker: "alices" }), "stop"],
      [() => bob.call(api.workers.restart, { worker: "alices" }), "restart"],
      [() => bob.call(api.workers.readLog, { worker: "alices" }), "read the logs of"],
      [() => bob.call(api.workers.remove, { worker: "alices" }), "remove"],
      [() => bob.call(api.workers.share, { worker: "alices", everyone: true }), "share"],
    ] as const) {
      await expect(call()).rejects.toMatchObject({
        code: "permission_denied",
        message: `only ${aliceName} (its owner) or an admin can ${what} worker 'alices'`,
      });
    }

    await alice.call(api.workers.unshare, { worker: "alices", with: bobName });
    // Bob knows the worker from his chat, so he is told why rather than that it does not exist.
    const refused = bob.call(api.chat.send, { chat: chat.id, text: "again" });
    await expect(refused).rejects.toMatchObject({ code: "permission_denied", message: expect.stringContaining("is not shared with you") });
    // Bob's transcript is his: still readable.
    expect((await bob.call(api.chat.messages, { chat: chat.id })).length).toBe(2);
    expect(await codeOf(bob.call(api.workers.get, { worker: "alices" }))).toBe("not_found");

    await alice.call(api.workers.share, { worker: "alices", everyone: true });
    expect((await bob.call(api.workers.get, { worker: "alices" })).sharedWithEveryone).toBe(true);
    await bob.call(api.chat.send, { chat: chat.id, text: "and again" });
    await alice.call(api.workers.unshare, { worker: "alices" });
    expect(await codeOf(bob.call(api.workers.get, { worker: "alices" }))).toBe("not_found");
  });

  it("shares from the CLI, and `worker list` says with whom", async () => {
    await addSandboxWorker(home, sandbox, "mine");
    const share = await runCli(home, ["worker", "share", "mine", "--with", bobName]);
    expect(share.code, share.stderr).toBe(0);
    expect(share.stdout).toContain(`mine is shared with ${bobName}`);
    const list = await runCli(home, ["worker", "list"]);
    expect(list.stdout).toMatch(new RegExp(`mine .*${bobName}`));
    expect((await bob.call(api.workers.list, {})).map((w) => w.name)).toEqual(["mine"]);
    const both = await runCli(home, ["worker", "share", "mine"]);
    expect(both.code).toBe(2);
    const unshare = await runCli(home, ["worker", "unshare", "mine", "--with", bobName]);
    expect(unshare.stdout).toContain("mine is shared with no one");
  });
});

describe("worker remove", () => {
  it("keeps the worker's chats, refuses while it has schedules, and removes them with --force", async () => {
    await addSandboxWorker(home, sandbox, "api");
    const chatId = (await runCli(home, ["chat", "new", "--worker", "api"])).stdout.trim().split(/\s+/)[0]!;
    const sent = await runCli(home, ["chat", "send", chatId, "hello", "--wait"]);
    expect(sent.code, sent.stderr).toBe(0);
    const added = await runCli(home, ["schedule", "add", "--worker", "api", "--cron", "0 9 * * 1-5", "--prompt", "summarize", "--name", "daily"]);
    expect(added.code, added.stderr).toBe(0);

    const refused = await runCli(home, ["worker", "remove", "api"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("worker 'api' has 1 schedule(s): daily");
    expect(refused.stderr).toContain("--force");
    expect((await cliJson<WorkerView[]>(home, ["worker", "list"])).map((w) => w.name)).toContain("api");

    const removed = await runCli(home, ["worker", "remove", "api", "--force"]);
    expect(removed.code, removed.stderr).toBe(0);
    // Two chats: the one made above, and the schedule's own.
    expect(removed.stdout).toContain("removed worker api; removed its 1 schedule(s); its 2 chat(s) are kept");
    expect(await cliJson(home, ["schedule", "list"])).toEqual([]);

    const chats = await cliJson<ChatSummary[]>(home, ["chat", "list", "--all"]);
    expect(chats.find((c) => c.id === chatId)).toMatchObject({ workerName: "api", workerRemoved: true });
    const list = await runCli(home, ["chat", "list", "--all"]);
    expect(list.stdout).toContain("api (worker removed)");
    const show = await runCli(home, ["chat", "show", chatId]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain("worker removed");
    expect(show.stdout).toContain("hello");

    const send = await runCli(home, ["chat", "send", chatId, "still there?"]);
    expect(send.code).toBe(1);
    expect(send.stderr).toContain("was on worker 'api', which was removed");
  });

  it("says what it does to chats and schedules in its help", async () => {
    const help = await runCli(home, ["worker", "remove", "--help"]);
    expect(help.stdout).toMatch(/chats are kept/);
    expect(help.stdout).toMatch(/schedules/);
  });
});

describe("worker start and stop are idempotent", () => {
  it("exits 0 saying 'already stopped' or 'already running'", async () => {
    await addSandboxWorker(home, sandbox, "idem");
    const running = await runCli(home, ["worker", "start", "idem"]);
    expect(running.code, running.stderr).toBe(0);
    expect(running.stdout).toContain("idem is already running");
    expect((await runCli(home, ["worker", "stop", "idem"])).code).toBe(0);
    const stopped = await runCli(home, ["worker", "stop", "idem"]);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain("idem is already stopped");
    expect((await cliJson<WorkerView & { already: boolean }>(home, ["worker", "stop", "idem", "--json"])).already).toBe(true);
  });
});
