import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { api, type ChecklistView } from "../../src/protocol/api/index.js";
import { BIN, cleanupHomes, cliJson, connect, createHome, runCli, waitFor } from "../helpers/daemon.js";

let home: string;
beforeAll(() => {
  home = createHome();
});
afterAll(cleanupHomes);

const texts = (view: ChecklistView | null) => view?.items.map((item) => `${item.done ? "x" : " "} ${item.text}`);

describe("checklists from the CLI", () => {
  it("add, toggle, edit, move, remove and clear items by position", async () => {
    for (const text of ["write tests", "fix bug", "ship"]) await cliJson(home, ["checklist", "add", "release", text]);
    await cliJson(home, ["checklist", "toggle", "release", "2"]);
    await cliJson(home, ["checklist", "edit", "release", "3", "ship it"]);
    await cliJson(home, ["checklist", "move", "release", "3", "1"]);
    expect(texts(await cliJson(home, ["checklist", "list", "release"]))).toEqual(["  ship it", "  write tests", "x fix bug"]);

    expect(await cliJson(home, ["checklist", "clear-completed", "release"])).toEqual({ removed: 1 });
    await cliJson(home, ["checklist", "remove", "release", "2"]);
    const view = await cliJson<ChecklistView>(home, ["checklist", "list", "release"]);
    expect(texts(view)).toEqual(["  ship it"]);
    expect(view.items[0]!.position).toBe(1);

    const human = await runCli(home, ["checklist", "list", "release"]);
    expect(human.stdout).toContain("1. [ ] ship it");
    const all = await cliJson(home, ["checklist", "list"]);
    expect(all).toEqual([expect.objectContaining({ key: "release", itemCount: 1, doneCount: 0, concluded: false })]);
  });

  it("accepts an item id as well as a position, and explains a bad one", async () => {
    const item = await cliJson(home, ["checklist", "add", "ids", "by id"]);
    await cliJson(home, ["checklist", "toggle", "ids", item.id]);
    expect(texts(await cliJson(home, ["checklist", "list", "ids"]))).toEqual(["x by id"]);
    const bad = await runCli(home, ["checklist", "toggle", "ids", "7"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe("ocfleet: checklist 'ids' has 1 item(s); there is no item 7\n");
    const junk = await runCli(home, ["checklist", "toggle", "ids", "first"]);
    expect(junk.code).toBe(2);
  });

  it("refuses edits to a concluded checklist until it is reopened", async () => {
    await cliJson(home, ["checklist", "add", "retro", "went well"]);
    const concluded = await cliJson<ChecklistView>(home, ["checklist", "conclude", "retro"]);
    expect(concluded.concluded).toBe(true);
    for (const args of [
      ["add", "retro", "late"],
      ["toggle", "retro", "1"],
      ["edit", "retro", "1", "x"],
      ["clear-completed", "retro"],
    ]) {
      const refused = await runCli(home, ["checklist", ...args]);
      expect(refused.code, args.join(" ")).toBe(1);
      expect(refused.stderr).toContain("checklist 'retro' is concluded; reopen it to change it");
    }
    await cliJson(home, ["checklist", "reopen", "retro"]);
    await cliJson(home, ["checklist", "add", "retro", "late"]);
    expect(texts(await cliJson(home, ["checklist", "list", "retro"]))).toEqual(["  went well", "  late"]);
  });

  it("says what is missing for an unknown checklist", async () => {
    const result = await runCli(home, ["checklist", "list", "nope"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("no checklist 'nope'");
    expect((await runCli(home, ["checklist", "list", "nope", "--json"])).stdout.trim()).toBe("null");
  });
});

describe("live checklists", () => {
  let watchers: FleetConnection[] = [];
  let writer: FleetConnection;
  beforeAll(async () => {
    watchers = [await connect(home), await connect(home)];
    writer = await connect(home);
  });
  afterAll(() => [...watchers, writer].forEach((c) => c.close()));

  it("keeps two subscribed clients in sync with a change made by a third, within milliseconds", async () => {
    const seen: Array<Array<{ at: number; view: ChecklistView | null }>> = [[], []];
    const subs = watchers.map((c, i) =>
      c.subscribe(api.checklists.get, { key: "sync" }, { onValue: (view) => seen[i]!.push({ at: performance.now(), view }) }),
    );
    await waitFor("first values", () => seen.every((s) => s.length === 1));
    expect(seen[0]![0]!.view).toBeNull();

    for (let round = 1; round <= 5; round++) {
      const sentAt = performance.now();
      await writer.call(api.checklists.addItem, { key: "sync", text: `item ${round}` });
      await waitFor(`round ${round}`, () => seen.every((s) => s.length === round + 1));
      for (const s of seen) {
        const last = s.at(-1)!;
        expect(last.view!.items.map((i) => i.text)).toEqual(Array.from({ length: round }, (_, i) => `item ${i + 1}`));
        expect(last.at - sentAt).toBeLessThan(250); // generous for a loaded CI box; the benchmark measures it properly
      }
    }
    subs.forEach((s) => s.unsubscribe());
  });

  it("does not wake a subscriber for a change to another checklist", async () => {
    const values: unknown[] = [];
    const sub = watchers[0]!.subscribe(api.checklists.get, { key: "quiet" }, { onValue: (v) => values.push(v) });
    await waitFor("first value", () => values.length === 1);
    await writer.call(api.checklists.addItem, { key: "noisy", text: "x" });
    await writer.call(api.checklists.addItem, { key: "quiet", text: "y" });
    await waitFor("the quiet list's change", () => values.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(values).toHaveLength(2);
    sub.unsubscribe();
  });

  it("`checklist watch` in two terminals prints each change made from a third", async () => {
    const outputs = ["", ""];
    const children = outputs.map((_, i) => {
      const child = spawn(process.execPath, [BIN, "checklist", "watch", "standup", "--json"], { env: { ...process.env, OCFLEET_HOME: home } });
      child.stdout.on("data", (chunk) => (outputs[i] += chunk));
      return child;
    });
    try {
      await waitFor("both watchers' first lines", () => outputs.every((o) => o.split("\n").length >= 2), 15_000);
      await cliJson(home, ["checklist", "add", "standup", "from a third terminal"]);
      await waitFor("both watchers to print the change", () => outputs.every((o) => o.includes("from a third terminal")), 15_000);
      const last = outputs.map((o) => JSON.parse(o.trim().split("\n").at(-1)!) as ChecklistView);
      for (const view of last) expect(view.items.map((i) => i.text)).toEqual(["from a third terminal"]);
    } finally {
      children.forEach((c) => c.kill("SIGINT"));
    }
    const codes = await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(c.exitCode) : c.once("exit", resolve)))));
    expect(codes).toEqual([0, 0]);
  });
});
