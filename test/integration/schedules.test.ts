// Scheduled prompts through the real daemon, on a worker whose OpenCode cannot start (so no
// OpenCode is needed here): the API, rights, validation, and the daemon's own timer firing a run
// at the second a 6-field expression names. test/e2e/schedules.test.ts sends to a real OpenCode.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { api, type ScheduleRunView, type ScheduleView } from "../../src/protocol/api/index.js";
import { cleanupHomes, cliJson, connectWithSession, twoUsers, createHome, runCli, waitFor } from "../helpers/daemon.js";

let home: string;
let owner: FleetConnection;
let plain: FleetConnection;
let plainName: string;

beforeAll(async () => {
  home = createHome();
  await cliJson(home, ["worker", "add", home, "--name", "w", "--opencode-bin", "/nonexistent/opencode", "--no-wait"]);
  // The plain user schedules on it too, so the owner shares it (a worker is its owner's until shared).
  await cliJson(home, ["worker", "share", "w", "--everyone", "--json"]);
  ({ owner, plain, plainName } = await twoUsers(home));
});
afterAll(async () => {
  owner?.close();
  plain?.close();
  await cleanupHomes();
});

describe("ocfleet schedule", () => {
  it("rejects an invalid cron expression or time zone as a usage error naming the flag, with croner's reason, and writes nothing", async () => {
    const example = '; e.g. "0 9 * * 1-5" (minute hour day month weekday)';
    const badCron = await runCli(home, ["schedule", "add", "--worker", "w", "--cron", "61 * * * *", "--prompt", "hi"]);
    expect(badCron).toMatchObject({ code: 2, stderr: `ocfleet: --cron: not a cron expression: Invalid value for minute: 61${example}\n` });
    const fields = await runCli(home, ["schedule", "add", "--worker", "w", "--cron", "every minute", "--prompt", "hi"]);
    expect(fields).toMatchObject({
      code: 2,
      stderr: `ocfleet: --cron: not a cron expression: invalid configuration format ('every minute'), exactly five, six, or seven space separated parts are required${example}\n`,
    });
    const badZone = await runCli(home, ["schedule", "add", "--worker", "w", "--cron", "0 9 * * *", "--tz", "Mars/Olympus", "--prompt", "hi"]);
    expect(badZone).toMatchObject({
      code: 2,
      stderr: "ocfleet: --tz: Invalid timezone 'Mars/Olympus' or date. Please provide a valid IANA timezone (e.g., 'America/New_York', 'Europe/Stockholm').\n",
    });
    const never = await runCli(home, ["schedule", "add", "--worker", "w", "--cron", "0 9 31 2 *", "--prompt", "hi"]);
    expect(never.stderr).toBe("ocfleet: --cron: '0 9 31 2 *' never matches a date from now on\n");
    // Scripts still get the wire method and field.
    const json = await runCli(home, ["schedule", "add", "--worker", "w", "--cron", "61 * * * *", "--prompt", "hi", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: "invalid_argument", method: "schedules.add", field: "cron" } });
    await expect(owner.call(api.schedules.add, { worker: "w", cron: "0 9 * * *", prompt: "  " })).rejects.toMatchObject({
      code: "invalid_argument",
      data: { field: "prompt" },
    });
    await expect(owner.call(api.schedules.add, { worker: "nope", cron: "0 9 * * *", prompt: "hi" })).rejects.toMatchObject({
      code: "not_found",
      message: "no worker 'nope' (see: ocfleet worker list)",
    });
    expect(await cliJson(home, ["schedule", "list"])).toEqual([]);
    expect(await cliJson(home, ["chat", "list"])).toEqual([]); // no chat was made for a refused schedule
  });

  it("adds a schedule with its own chat named after it, in this terminal's time zone; lists, pauses, resumes and removes it", async () => {
    const added = await cliJson<ScheduleView>(home, [
      "schedule",
      "add",
      "--worker",
      "w",
      "--cron",
      "0 9 * * 1-5",
      "--prompt",
      "Summarize the open pull requests",
    ]);
    expect(added).toMatchObject({
      name: "summarize-the-open-pull",
      cron: "0 9 * * 1-5",
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      workerName: "w",
      paused: false,
      lastRun: null,
    });
    expect(added.chatTitle).toBe("summarize-the-open-pull");
    expect(await cliJson(home, ["chat", "list"])).toEqual([expect.objectContaining({ id: added.chatId, title: "summarize-the-open-pull" })]);
    const again = await runCli(home, ["schedule", "add", "--worker", "w", "--cron", "0 10 * * *", "--prompt", "x", "--name", "summarize-the-open-pull"]);
    expect(again).toMatchObject({ code: 1, stderr: "ocfleet: a schedule named 'summarize-the-open-pull' exists; choose another --name\n" });

    // Into an existing chat: its worker is implied.
    const chat = await cliJson(home, ["chat", "new", "--worker", "w", "--title", "ops"]);
    const intoChat = await cliJson<ScheduleView>(home, [
      "schedule",
      "add",
      "--chat",
      chat.id,
      "--cron",
      "30 8 * * *",
      "--tz",
      "Asia/Tokyo",
      "--prompt",
      "status",
      "--name",
      "ops-status",
    ]);
    expect(intoChat).toMatchObject({ chatId: chat.id, workerName: "w", timezone: "Asia/Tokyo" });
    expect(new Date(intoChat.nextRunAt!).getUTCHours()).toBe(23); // 08:30 in Tokyo

    const table = await runCli(home, ["schedule", "list"]);
    expect(table.stdout).toMatch(/ops-status\s+30 8 \* \* \*\s+Asia\/Tokyo\s+w\s+/);
    expect(await cliJson(home, ["schedule", "pause", "ops-status"])).toMatchObject({ paused: true, nextRunAt: null });
    expect(await runCli(home, ["schedule", "pause", "ops-status"])).toMatchObject({
      code: 1,
      stderr: "ocfleet: schedule 'ops-status' is already paused; resume it with: ocfleet schedule resume ops-status\n",
    });
    expect(await cliJson(home, ["schedule", "resume", intoChat.id])).toMatchObject({ paused: false, nextRunAt: intoChat.nextRunAt });
    expect(await cliJson(home, ["schedule", "runs", "ops-status"])).toEqual([]);
    expect(await cliJson(home, ["schedule", "remove", "ops-status"])).toEqual({ removed: true, name: "ops-status" });
    expect(await runCli(home, ["schedule", "runs", "ops-status"])).toMatchObject({
      code: 1,
      stderr: "ocfleet: no schedule 'ops-status' (see: ocfleet schedule list)\n",
    });
    expect((await cliJson(home, ["chat", "list"])).map((c: { id: string }) => c.id)).toContain(chat.id); // its chat stays
  });
});

describe("schedules between two users", () => {
  it("an admin sees a user's schedule appear live; the user cannot see or touch the admin's", async () => {
    const seen: ScheduleView[][] = [];
    const sub = owner.subscribe(api.schedules.list, { all: true }, { onValue: (v) => seen.push(v) });
    await waitFor("the first value", () => seen.length === 1);
    const mine = await plain.call(api.schedules.add, { worker: "w", cron: "0 7 * * *", timezone: "UTC", prompt: "wake up", name: "plain-morning" });
    await waitFor("the admin to see it", () => seen.at(-1)!.some((s) => s.id === mine.id));
    expect(seen.at(-1)!.find((s) => s.id === mine.id)).toMatchObject({ ownerName: plainName });
    await owner.call(api.schedules.pause, { schedule: "plain-morning" }); // admins may manage anyone's
    await waitFor("the pause to show", () => seen.at(-1)!.find((s) => s.id === mine.id)?.paused === true);

    const admins = await owner.call(api.schedules.add, { worker: "w", cron: "0 7 * * *", timezone: "UTC", prompt: "admin things", name: "admin-morning" });
    expect((await plain.call(api.schedules.list, { all: true })).map((s) => s.name)).toEqual(["plain-morning"]);
    for (const attempt of [api.schedules.get, api.schedules.pause, api.schedules.remove, api.schedules.runs]) {
      await expect(plain.call(attempt, { schedule: admins.id } as never)).rejects.toMatchObject({ code: "not_found" });
    }
    // Nor can a user aim a schedule at someone else's chat.
    await expect(plain.call(api.schedules.add, { chat: admins.chatId, cron: "0 7 * * *", prompt: "sneak" })).rejects.toMatchObject({ code: "not_found" });
    sub.unsubscribe();
  });
});

describe("the daemon's timer", () => {
  it("fires at the second a 6-field expression names, and records why the run failed", async () => {
    // Every minute, at a second just ahead: a real schedule, due in about two seconds. (If the
    // machine is so loaded that the second passed before the add arrived, try again.)
    let added: ScheduleView;
    for (let attempt = 0; ; attempt++) {
      const second = new Date(Date.now() + 2500).getUTCSeconds();
      added = await owner.call(api.schedules.add, { worker: "w", cron: `${second} * * * * *`, timezone: "UTC", prompt: "are you there?", name: "soon" });
      if (added.nextRunAt! - Date.now() < 10_000 || attempt === 2) break;
      await owner.call(api.schedules.remove, { schedule: "soon" });
    }
    const runs = await new Promise<ScheduleRunView[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the run never finished")), 15_000);
      const sub = owner.subscribe(
        api.schedules.runs,
        { schedule: "soon" },
        {
          onValue: (list) => {
            if (list.some((r) => r.status !== "sent")) {
              clearTimeout(timer);
              sub.unsubscribe();
              resolve(list);
            }
          },
        },
      );
    });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ scheduledFor: added.nextRunAt, status: "failed", chatId: added.chatId });
    expect(runs[0]!.recordedAt - runs[0]!.scheduledFor).toBeLessThan(1000);
    expect(runs[0]!.reason).toBe("could not send: worker w failed to start: the OpenCode binary /nonexistent/opencode does not exist");
    await owner.call(api.schedules.remove, { schedule: "soon" });
  });
});

describe("a user disabled by an admin (ocfleet admin users disable)", () => {
  it("is signed out at once, refused by every way in, and their schedule records skipped runs until enabled", async () => {
    const victim = await connectWithSession(home);
    const created = await victim.call(api.auth.loginAnonymous, {});
    const recoveryCode = created.recoveryCode!;
    const loginCode = (await victim.call(api.auth.createLoginCode, {})).code;
    let added: ScheduleView;
    for (let attempt = 0; ; attempt++) {
      const second = new Date(Date.now() + 3500).getUTCSeconds();
      added = await victim.call(api.schedules.add, { worker: "w", cron: `${second} * * * * *`, timezone: "UTC", prompt: "still here?", name: "victims" });
      if (added.nextRunAt! - Date.now() < 10_000 || attempt === 2) break;
      await victim.call(api.schedules.remove, { schedule: "victims" });
    }
    const errors: string[] = [];
    victim.subscribe(api.auth.whoami, {}, { onValue: () => {}, onError: (e) => errors.push(e.code) });

    const disabled = await runCli(home, ["admin", "users", "disable", created.user.name, "--reason", "left the team", "--json"]);
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(JSON.parse(disabled.stdout)).toMatchObject({ id: created.user.id, activeSessions: 0, disabled: { reason: "left the team" } });
    await waitFor("the open connection to be signed out", () => errors.includes("unauthenticated"));
    await expect(victim.call(api.schedules.list, {})).rejects.toMatchObject({ code: "unauthenticated" });

    // Every way back in refuses them, and says who can undo it.
    for (const [method, code] of [
      [api.auth.loginWithRecoveryCode, recoveryCode],
      [api.auth.loginWithCode, loginCode],
    ] as const) {
      const fresh = await connectWithSession(home);
      await expect(fresh.call(method, { code })).rejects.toMatchObject({
        code: "permission_denied",
        message: `this account is disabled by an admin (left the team); an admin can enable it with: ocfleet admin users enable ${created.user.name}`,
      });
      fresh.close();
    }
    const desk = await owner.call(api.serviceDesk.issueLoginCode, { user: created.user.id });
    const viaDesk = await connectWithSession(home);
    await expect(viaDesk.call(api.auth.loginWithCode, { code: desk.code })).rejects.toMatchObject({ code: "permission_denied" });

    // Their schedule's due time comes and goes: recorded as skipped, with why, and nothing sent.
    const runs = await new Promise<ScheduleRunView[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no run recorded")), 20_000);
      const sub = owner.subscribe(
        api.schedules.runs,
        { schedule: added.id },
        {
          onValue: (list) => {
            if (list.length > 0) {
              clearTimeout(timer);
              sub.unsubscribe();
              resolve(list);
            }
          },
        },
      );
    });
    expect(runs[0]).toMatchObject({ status: "skipped", reason: `skipped: ${created.user.name}'s account is disabled by an admin`, messageId: null });
    expect(await owner.call(api.chat.messages, { chat: added.chatId })).toEqual([]);

    // Enabled again: the recovery code works, and the audit log has both actions.
    expect((await runCli(home, ["admin", "users", "enable", created.user.name])).code).toBe(0);
    const back = await connectWithSession(home);
    expect((await back.call(api.auth.loginWithRecoveryCode, { code: recoveryCode })).user.id).toBe(created.user.id);
    const audit = await owner.call(api.admin.audit, { limit: 10 });
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(["admin.disableUser", "admin.enableUser"]));
    await back.call(api.schedules.remove, { schedule: added.id });
    for (const c of [victim, viaDesk, back]) c.close();
  });

  it("cannot be the owner, yourself or the last admin", async () => {
    const ownerName = (await owner.call(api.auth.whoami, {})).user.name;
    await expect(owner.call(api.admin.disableUser, { user: ownerName })).rejects.toMatchObject({ code: "failed_precondition" });
  });
});
