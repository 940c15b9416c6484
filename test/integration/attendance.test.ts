import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { api, type AttendanceView } from "../../src/protocol/api/index.js";
import { BIN, cleanupHomes, cliJson, twoUsers, createHome, runCli, waitFor } from "../helpers/daemon.js";

let home: string;
let owner: FleetConnection;
let plain: FleetConnection;
let ownerName: string;
let plainName: string;

beforeAll(async () => {
  home = createHome();
  ({ owner, ownerName, plain, plainName } = await twoUsers(home));
});
afterAll(async () => {
  owner?.close();
  plain?.close();
  await cleanupHomes();
});

const who = (view: AttendanceView | null) => view?.entries.map((e) => `${e.userName}:${e.status}${e.reason ? `:${e.reason}` : ""}`);

describe("attendance between two users", () => {
  it("each sees the other's marks live, and marking again updates the one entry", async () => {
    const seenByPlain: Array<AttendanceView | null> = [];
    const seenByOwner: Array<AttendanceView | null> = [];
    const subs = [
      plain.subscribe(api.attendance.get, { key: "standup" }, { onValue: (v) => seenByPlain.push(v) }),
      owner.subscribe(api.attendance.get, { key: "standup" }, { onValue: (v) => seenByOwner.push(v) }),
    ];
    await waitFor("first values", () => seenByPlain.length === 1 && seenByOwner.length === 1);
    expect(seenByPlain[0]).toBeNull();

    await owner.call(api.attendance.mark, { key: "standup" });
    await waitFor("the owner's mark to reach the other user", () => who(seenByPlain.at(-1)!)?.length === 1);
    expect(who(seenByPlain.at(-1)!)).toEqual([`${ownerName}:present`]);

    await plain.call(api.attendance.mark, { key: "standup", status: "remote", reason: "train" });
    await waitFor("the plain user's mark to reach the owner", () => who(seenByOwner.at(-1)!)?.length === 2);
    await plain.call(api.attendance.mark, { key: "standup", status: "absent", reason: "sick" });
    await waitFor("the update", () => who(seenByOwner.at(-1)!)?.[1] === `${plainName}:absent:sick`);
    const view = seenByOwner.at(-1)!;
    expect(who(view)).toEqual([`${ownerName}:present`, `${plainName}:absent:sick`]);
    expect(view!.counts).toEqual({ present: 1, absent: 1, remote: 0 });
    expect(await owner.call(api.attendance.list, {})).toEqual([expect.objectContaining({ key: "standup", counts: { present: 1, absent: 1, remote: 0 } })]);
    subs.forEach((s) => s.unsubscribe());
  });

  it("a plain user removes only their own entry; an admin removes anyone's", async () => {
    await owner.call(api.attendance.mark, { key: "retro" });
    await plain.call(api.attendance.mark, { key: "retro" });
    await expect(plain.call(api.attendance.remove, { key: "retro", user: ownerName })).rejects.toMatchObject({
      code: "permission_denied",
      message: "only admins can remove someone else's attendance; you can remove your own with: ocfleet attendance remove retro",
    });
    expect(who(await plain.call(api.attendance.get, { key: "retro" }))).toEqual([`${ownerName}:present`, `${plainName}:present`]);
    // Naming yourself is fine.
    expect(await plain.call(api.attendance.remove, { key: "retro", user: plainName })).toEqual({ removed: true, userName: plainName });
    await plain.call(api.attendance.mark, { key: "retro" });
    expect(await owner.call(api.attendance.remove, { key: "retro", user: plainName })).toEqual({ removed: true, userName: plainName });
    expect(who(await plain.call(api.attendance.get, { key: "retro" }))).toEqual([`${ownerName}:present`]);
    await expect(plain.call(api.attendance.remove, { key: "retro" })).rejects.toMatchObject({
      code: "not_found",
      message: "you have no attendance entry under 'retro'",
    });
  });

  it("refuses bad input with a clear error and writes nothing", async () => {
    await expect(plain.call(api.attendance.mark, { key: "  " })).rejects.toMatchObject({ code: "invalid_argument", data: { field: "key" } });
    await expect(plain.call(api.attendance.mark, { key: "x", status: "late" as never })).rejects.toMatchObject({
      code: "invalid_argument",
      message: "status: must be present, absent or remote",
      data: { method: "attendance.mark", field: "status" },
    });
    await expect(plain.call(api.attendance.remove, { key: "nope" })).rejects.toMatchObject({
      code: "not_found",
      message: "no attendance under 'nope' (see: ocfleet attendance list)",
    });
    expect((await plain.call(api.attendance.list, {})).map((a) => a.key).sort()).toEqual(["retro", "standup"]);
  });
});

describe("ocfleet attendance", () => {
  it("marks, lists and removes from the command line, and explains mistakes", async () => {
    expect(await cliJson(home, ["attendance", "mark", "planning", "--status", "remote", "--reason", "home office"])).toMatchObject({
      status: "remote",
      reason: "home office",
    });
    const human = await runCli(home, ["attendance", "list", "planning"]);
    expect(human.stdout).toMatch(new RegExp(`${ownerName}\\s+remote\\s+home office`));
    expect(await cliJson(home, ["attendance", "remove", "planning"])).toEqual({ removed: true, userName: ownerName });
    const bad = await runCli(home, ["attendance", "mark", "planning", "--status", "late"]);
    expect(bad).toMatchObject({ code: 2, stderr: "ocfleet: --status must be present, absent or remote, not 'late'\n" });
    const missing = await runCli(home, ["attendance", "list", "nowhere"]);
    expect(missing).toMatchObject({ code: 1, stderr: "ocfleet: no attendance under 'nowhere'; mark yourself with: ocfleet attendance mark nowhere\n" });
  });

  it("`attendance watch --json` prints a line for each change another user makes", async () => {
    let output = "";
    const child = spawn(process.execPath, [BIN, "attendance", "watch", "demo", "--json"], { env: { ...process.env, OCFLEET_HOME: home } });
    child.stdout.on("data", (chunk) => (output += chunk));
    try {
      await waitFor("the first line", () => output.includes("\n"), 15_000);
      await plain.call(api.attendance.mark, { key: "demo", status: "remote" });
      await waitFor("the watcher to print the change", () => output.trim().split("\n").length === 2, 15_000);
      const lines = output
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as AttendanceView | null);
      expect(lines[0]).toBeNull();
      expect(who(lines[1]!)).toEqual([`${plainName}:remote`]);
    } finally {
      child.kill("SIGINT");
    }
    expect(await new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", resolve)))).toBe(0);
  });
});
