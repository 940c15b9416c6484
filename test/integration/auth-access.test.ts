import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { buildRegistry } from "../../src/daemon/functions/index.js";
import { api } from "../../src/protocol/api/index.js";
import { FakeOidc } from "../fixtures/fake-oidc.js";
import { untilLive } from "../helpers/live.js";
import { createOpencodeSandbox } from "../helpers/opencode.js";
import { cleanupHomes, connectAsOwner, connectWithSession, createHome, daemonState, runCli } from "../helpers/daemon.js";
import { waitForExit } from "../../src/platform/processes.js";

const registry = buildRegistry();
let home: string;
let fake: FakeOidc;

beforeAll(async () => {
  home = createHome();
  fake = await FakeOidc.start();
  fake.deviceInterval = 0.05;
});
afterAll(async () => {
  await cleanupHomes();
  await fake.close();
});

describe("access levels", () => {
  it("refuse every admin function to a plain user, and every user or admin function to a caller who is not signed in", async () => {
    const plain = await connectWithSession(home);
    await plain.call(api.auth.loginAnonymous, {});
    const nobody = await connectWithSession(home);
    const adminFunctions = [...registry.values()].filter((def) => def.access === "admin");
    expect(adminFunctions.map((def) => def.name)).toEqual(
      expect.arrayContaining(["admin.users", "admin.googleSet", "admin.googleShow", "serviceDesk.issueLoginCode"]),
    );
    for (const def of adminFunctions) {
      // Access is checked before the arguments, so no valid arguments are needed to be refused.
      await expect(plain.callMethod(def.name, {}), def.name).rejects.toMatchObject({
        code: "permission_denied",
        message: expect.stringContaining(`${def.name} is for admins only`),
      });
      await expect(nobody.callMethod(def.name, {}), def.name).rejects.toMatchObject({ code: "unauthenticated" });
    }
    for (const def of [...registry.values()].filter((d) => d.access === "user")) {
      await expect(nobody.callMethod(def.name, {}), def.name).rejects.toMatchObject({ code: "unauthenticated" });
    }
    plain.close();
    nobody.close();
  });
});

describe("the Google client secret", () => {
  it("is never returned by any function, nor shown by the CLI, nor stored in plain text", async () => {
    const secret = fake.clientSecret;
    const admin = await connectAsOwner(home);
    const outputs = new Map<string, unknown>();
    const record = async (name: string, call: Promise<unknown>) => outputs.set(name, await call);
    const fresh = () => connectWithSession(home);

    // Every function, called with valid arguments by an admin (or the client that needs it).
    await record("admin.googleSet", admin.call(api.admin.googleSet, { clientId: fake.clientId, clientSecret: secret, issuer: fake.issuer }));
    await record("admin.googleShow", admin.call(api.admin.googleShow, {}));
    await record("admin.googleDisable", admin.call(api.admin.googleDisable, {}));
    await record("admin.googleEnable", admin.call(api.admin.googleEnable, {}));
    await record("appinfo.get", admin.call(api.appinfo.get, {}));
    await record("daemon.status", admin.call(api.daemon.status, {}));

    await record("checklists.addItem", admin.call(api.checklists.addItem, { key: "scan", text: "first" }));
    const item = outputs.get("checklists.addItem") as { id: never };
    await record("checklists.list", admin.call(api.checklists.list, {}));
    await record("checklists.get", admin.call(api.checklists.get, { key: "scan" }));
    await record("checklists.toggleItem", admin.call(api.checklists.toggleItem, { key: "scan", itemId: item.id }));
    await record("checklists.editItem", admin.call(api.checklists.editItem, { key: "scan", itemId: item.id, text: "edited" }));
    await record("checklists.moveItem", admin.call(api.checklists.moveItem, { key: "scan", itemId: item.id, position: 1 }));
    await record("checklists.clearCompleted", admin.call(api.checklists.clearCompleted, { key: "scan" }));
    const second = await admin.call(api.checklists.addItem, { key: "scan", text: "second" });
    await record("checklists.removeItem", admin.call(api.checklists.removeItem, { key: "scan", itemId: second.id }));
    await admin.call(api.checklists.addItem, { key: "scan", text: "third" });
    await record("checklists.conclude", admin.call(api.checklists.conclude, { key: "scan" }));
    await record("checklists.reopen", admin.call(api.checklists.reopen, { key: "scan" }));

    await record("attendance.mark", admin.call(api.attendance.mark, { key: "scan", status: "remote", reason: "home" }));
    await record("attendance.get", admin.call(api.attendance.get, { key: "scan" }));
    await record("attendance.list", admin.call(api.attendance.list, {}));
    await record("attendance.remove", admin.call(api.attendance.remove, { key: "scan" }));
    await record("discussions.open", admin.call(api.discussions.open, { key: "scan", title: "scan" }));
    await record("discussions.post", admin.call(api.discussions.post, { key: "scan", text: "hello" }));
    await record("discussions.get", admin.call(api.discussions.get, { key: "scan" }));
    await record("discussions.list", admin.call(api.discussions.list, {}));
    await record("discussions.conclude", admin.call(api.discussions.conclude, { key: "scan", conclusion: "done", tags: ["note"] }));
    await record("discussions.reopen", admin.call(api.discussions.reopen, { key: "scan" }));
    await record("presentations.start", admin.call(api.presentations.start, { markdown: "# A\n---\n# B" }));
    const deck = (outputs.get("presentations.start") as { id: string }).id;
    await record("presentations.get", admin.call(api.presentations.get, { id: deck }));
    await record("presentations.list", admin.call(api.presentations.list, {}));
    await record("presentations.next", admin.call(api.presentations.next, { id: deck, at: Date.now() }));
    await record("presentations.prev", admin.call(api.presentations.prev, { id: deck, at: Date.now() + 1 }));
    await record("presentations.goto", admin.call(api.presentations.goto, { id: deck, slide: 2, at: Date.now() + 2 }));
    await record("presentations.stop", admin.call(api.presentations.stop, { id: deck, at: Date.now() + 3 }));

    const anonymousClient = await fresh();
    await record("auth.loginAnonymous", anonymousClient.call(api.auth.loginAnonymous, {}));
    const anonymous = outputs.get("auth.loginAnonymous") as { user: { id: string }; recoveryCode: string };
    await record("auth.signInAsOwner", (await fresh()).call(api.auth.signInAsOwner, {}));
    await record("auth.createLoginCode", admin.call(api.auth.createLoginCode, {}));
    await record("auth.loginWithCode", (await fresh()).call(api.auth.loginWithCode, { code: (outputs.get("auth.createLoginCode") as { code: string }).code }));
    await record("auth.loginWithRecoveryCode", (await fresh()).call(api.auth.loginWithRecoveryCode, { code: anonymous.recoveryCode }));
    await record("auth.regenerateRecoveryCode", anonymousClient.call(api.auth.regenerateRecoveryCode, {}));
    await record("auth.whoami", admin.call(api.auth.whoami, {}));
    await record("auth.sessions", admin.call(api.auth.sessions, {}));
    const spare = await connectAsOwner(home);
    await record("auth.revokeSession", admin.call(api.auth.revokeSession, { sessionId: (await spare.call(api.auth.whoami, {})).session.id }));
    await record("auth.logout", (await connectAsOwner(home)).call(api.auth.logout, {}));

    // Google, both ways, against the fake issuer.
    const googleClient = await fresh();
    const start = await googleClient.call(api.auth.googleStart, { redirectUri: "http://127.0.0.1:9/callback" });
    outputs.set("auth.googleStart", start);
    const callback = new URL((await fetch(start.authorizationUrl, { redirect: "manual" })).headers.get("location")!);
    await record(
      "auth.googleFinish",
      googleClient.call(api.auth.googleFinish, { requestId: start.requestId, state: start.state, code: callback.searchParams.get("code")! }),
    );
    fake.deviceScript = ["approved"];
    const deviceClient = await fresh();
    const device = await deviceClient.call(api.auth.googleDeviceStart, {});
    outputs.set("auth.googleDeviceStart", device);
    await new Promise((resolve) => setTimeout(resolve, device.retryInMs + 20));
    await record("auth.googleDevicePoll", deviceClient.call(api.auth.googleDevicePoll, { requestId: device.requestId }));

    await record("admin.users", admin.call(api.admin.users, {}));
    await record("admin.setUserLevel", admin.call(api.admin.setUserLevel, { user: anonymous.user.id, level: "system_admin" }));
    await record("serviceDesk.findUser", admin.call(api.serviceDesk.findUser, { query: "Ada" }));
    await record("serviceDesk.issueLoginCode", admin.call(api.serviceDesk.issueLoginCode, { user: anonymous.user.id }));
    await record("serviceDesk.revokeSessions", admin.call(api.serviceDesk.revokeSessions, { user: anonymous.user.id }));
    await record("admin.disableUser", admin.call(api.admin.disableUser, { user: anonymous.user.id, reason: "scan" }));
    await record("admin.enableUser", admin.call(api.admin.enableUser, { user: anonymous.user.id }));
    // Workers and chat, on a real OpenCode that asks before running commands.
    const sandbox = await createOpencodeSandbox();
    try {
      const idle = (worker: string) => untilLive(admin, api.workers.get, { worker }, (w) => w.runState === "idle");
      // A git repository, so the worktree functions have something to work on.
      const scanProject = sandbox.project("scan");
      execFileSync("git", ["init", "-q"], { cwd: scanProject });
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "first"], { cwd: scanProject });
      await record("workers.add", admin.call(api.workers.add, { directory: scanProject, name: "scan", env: sandbox.env("scan", "ask") }));
      await idle("scan");
      await record("workers.list", admin.call(api.workers.list, {}));
      await record("workers.get", admin.call(api.workers.get, { worker: "scan" }));
      await record("workerModels.list", admin.call(api.workerModels.list, { worker: "scan" }));
      await record("machines.list", admin.call(api.machines.list, {}));
      await record("workers.readLog", admin.call(api.workers.readLog, { worker: "scan" }));
      await record("schedules.add", admin.call(api.schedules.add, { worker: "scan", cron: "0 9 * * 1-5", timezone: "UTC", prompt: "scan", name: "scan" }));
      await record("schedules.list", admin.call(api.schedules.list, { all: true }));
      await record("schedules.get", admin.call(api.schedules.get, { schedule: "scan" }));
      await record("schedules.pause", admin.call(api.schedules.pause, { schedule: "scan" }));
      await record("schedules.resume", admin.call(api.schedules.resume, { schedule: "scan" }));
      await record("schedules.runs", admin.call(api.schedules.runs, { schedule: "scan" }));
      await record("schedules.remove", admin.call(api.schedules.remove, { schedule: "scan" }));
      await record("workers.restart", admin.call(api.workers.restart, { worker: "scan" }));
      await idle("scan");
      await record("chat.create", admin.call(api.chat.create, { worker: "scan" }));
      const chatId = (outputs.get("chat.create") as { id: string }).id;
      const reply = (messageId: string) => untilLive(admin, api.chat.messages, { chat: chatId }, (ms) => ms.some((m) => m.replyTo === messageId));
      const asked = () => untilLive(admin, api.chat.pending, {}, (rs) => rs.length === 1);
      await record("chat.send", admin.call(api.chat.send, { chat: chatId, text: "run command echo scanned" }));
      await record("chat.stream", admin.call(api.chat.stream, { chat: chatId }));
      await record("chat.pending", asked());
      await record("chat.permit", admin.call(api.chat.permit, { request: (outputs.get("chat.pending") as { id: string }[])[0]!.id, reply: "once" }));
      await reply((outputs.get("chat.send") as { messageId: string }).messageId);
      const question = await admin.call(api.chat.send, { chat: chatId, text: "ask me a question" });
      await record("chat.answer", admin.call(api.chat.answer, { request: (await asked())[0]!.id, answers: [["red"]] }));
      await reply(question.messageId);
      await record("chat.abort", admin.call(api.chat.abort, { chat: chatId }));
      await record("chat.messages", admin.call(api.chat.messages, { chat: chatId }));
      await record("chat.get", admin.call(api.chat.get, { chat: chatId }));
      await record("chat.list", admin.call(api.chat.list, {}));
      await record("chat.rename", admin.call(api.chat.rename, { chat: chatId, title: "scanned" }));
      await record("chat.archive", admin.call(api.chat.archive, { chat: chatId }));
      await record("worktrees.setWorkerDefault", admin.call(api.worktrees.setWorkerDefault, { worker: "scan", worktree: true }));
      await record("worktrees.createChat", admin.call(api.worktrees.createChat, { worker: "scan" }));
      const worktreeChat = (outputs.get("worktrees.createChat") as { id: string }).id;
      await record("worktrees.diff", admin.call(api.worktrees.diff, { chat: worktreeChat }));
      await record("worktrees.apply", admin.call(api.worktrees.apply, { chat: worktreeChat }));
      await record("worktrees.removeWorktree", admin.call(api.worktrees.removeWorktree, { chat: worktreeChat }));
      await record("search.messages", admin.call(api.search.messages, { query: "scanned" }));
      await record("usage.report", admin.call(api.usage.report, { by: "chat" }));
      await record("budgets.set", admin.call(api.budgets.set, { all: true, usd: 100, period: "month" }));
      await record("budgets.list", admin.call(api.budgets.list, {}));
      await record("budgets.clear", admin.call(api.budgets.clear, { all: true }));
      await record("notify.addWebhook", admin.call(api.notify.addWebhook, { url: "http://127.0.0.1:9/hook" }));
      await record("notify.webhooks", admin.call(api.notify.webhooks, {}));
      await record("notify.log", admin.call(api.notify.log, {}));
      await record("notify.removeWebhook", admin.call(api.notify.removeWebhook, { webhook: (outputs.get("notify.addWebhook") as { id: string }).id }));
      await record("notify.desktop", admin.call(api.notify.desktop, { on: false }));
      await record("workers.share", admin.call(api.workers.share, { worker: "scan", everyone: true }));
      await record("workers.unshare", admin.call(api.workers.unshare, { worker: "scan" }));
      await record("workers.stop", admin.call(api.workers.stop, { worker: "scan" }));
      await record("workers.start", admin.call(api.workers.start, { worker: "scan" }));
      await idle("scan");
      await record("workers.remove", admin.call(api.workers.remove, { worker: "scan" }));
    } finally {
      await sandbox.close();
    }

    // The hub, and a second daemon joining it (its membership functions run there).
    await record("hub.enable", admin.call(api.hub.enable, { listen: "127.0.0.1:0" }));
    await record("hub.status", admin.call(api.hub.status, {}));
    await record("hub.invite", admin.call(api.hub.invite, { name: "scan-far", approve: true }));
    const joiner = await connectAsOwner(createHome());
    await record("membership.join", joiner.call(api.membership.join, { token: (outputs.get("hub.invite") as { token: string }).token }));
    await record(
      "membership.status",
      untilLive(joiner, api.membership.status, {}, (m) => m?.state === "approved"),
    );
    await record("hub.approve", admin.call(api.hub.approve, { machine: "scan-far" }));
    await record("hub.rename", admin.call(api.hub.rename, { machine: "scan-far", name: "scan-farther" }));
    await record("hub.revoke", admin.call(api.hub.revoke, { machine: "scan-farther" }));
    await record("hub.remove", admin.call(api.hub.remove, { machine: "scan-farther" }));
    await record("membership.leave", joiner.call(api.membership.leave, {}));
    joiner.close();
    await record("hub.disable", admin.call(api.hub.disable, {}));

    await record("admin.audit", admin.call(api.admin.audit, { limit: 1000 }));
    await record("admin.jobs", admin.call(api.admin.jobs, {}));

    const cli = await runCli(home, ["admin", "google", "show", "--json"]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ clientSecretSet: true, clientId: fake.clientId });
    expect(cli.stdout + cli.stderr).not.toContain(secret);
    expect((await runCli(home, ["admin", "google", "show"])).stdout).toContain("client secret: set (never shown)");

    // Last, as it ends the daemon.
    const pid = daemonState(home)!.pid;
    await record("daemon.stop", admin.call(api.daemon.stop, {}));
    // The state file goes just before the last log line: wait for the process itself to end.
    expect(await waitForExit(pid, 30_000)).toBe(true);

    expect([...outputs.keys()].sort()).toEqual([...registry.keys()].sort());
    for (const [name, output] of outputs) {
      expect(output, name).toBeDefined();
      expect(JSON.stringify(output), name).not.toContain(secret);
    }
    expect(outputs.get("auth.googleFinish")).toMatchObject({ outcome: "created", user: { name: "Ada Lovelace" } });
    expect(outputs.get("auth.googleDevicePoll")).toMatchObject({ status: "approved" });
    // At rest it is AES-GCM ciphertext; the log never holds it either.
    for (const file of ["state.db", "state.db-wal", "daemon.log"]) {
      let bytes = "";
      try {
        bytes = readFileSync(join(home, file)).toString("latin1");
      } catch {
        continue; // the WAL is checkpointed away at a clean stop
      }
      expect(bytes, file).not.toContain(secret);
    }
    expect(readFileSync(join(home, "daemon.log"), "utf8")).toContain(`daemon stopped pid=${pid}`);
    closeAll([admin, anonymousClient, spare, googleClient, deviceClient]);
  }, 120_000); // a real OpenCode's whole lifecycle, and every function of the API
});

function closeAll(connections: FleetConnection[]): void {
  for (const c of connections) c.close();
}
