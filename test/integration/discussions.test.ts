import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { api, type DiscussionView } from "../../src/protocol/api/index.js";
import { cleanupHomes, cliJson, connectWithSession, twoUsers, createHome, runCli, waitFor } from "../helpers/daemon.js";

let home: string;
let owner: FleetConnection;
let plain: FleetConnection;
let plainName: string;

beforeAll(async () => {
  home = createHome();
  ({ owner, plain, plainName } = await twoUsers(home));
});
afterAll(async () => {
  owner?.close();
  plain?.close();
  await cleanupHomes();
});

const texts = (view: DiscussionView | null | undefined) => view?.messages.map((m) => `${m.authorName}: ${m.text}`);

describe("discussions between two users", () => {
  it("posts reach the other user live; only the opener or an admin concludes, and then posts are refused until reopened", async () => {
    // The plain user opens it, so they own it; the owner of the machine is an admin.
    const opened = await plain.call(api.discussions.open, { key: "db", title: "Which database?" });
    expect(opened).toMatchObject({ key: "db", title: "Which database?", ownerName: plainName, concluded: false, messages: [], conclusions: [] });

    const seen: Array<DiscussionView | null> = [];
    const sub = plain.subscribe(api.discussions.get, { key: "db" }, { onValue: (v) => seen.push(v) });
    await waitFor("the first value", () => seen.length === 1);
    const ownerName = (await owner.call(api.auth.whoami, {})).user.name;
    await owner.call(api.discussions.post, { key: "db", text: "SQLite: one file, WAL" });
    await waitFor("the post to reach the opener", () => texts(seen.at(-1))?.length === 1);
    expect(texts(seen.at(-1))).toEqual([`${ownerName}: SQLite: one file, WAL`]);

    // A third user may post, but not conclude someone else's discussion.
    const third = await connectWithSession(home);
    await third.call(api.auth.loginAnonymous, {});
    await third.call(api.discussions.post, { key: "db", text: "+1" });
    await expect(third.call(api.discussions.conclude, { key: "db", conclusion: "mine now" })).rejects.toMatchObject({
      code: "permission_denied",
      message: `only ${plainName} (who opened it) or an admin can conclude discussion 'db'`,
    });
    await expect(third.call(api.discussions.reopen, { key: "db" })).rejects.toMatchObject({ code: "permission_denied" });

    await plain.call(api.discussions.conclude, { key: "db", conclusion: "SQLite", tags: ["decision", "decision", "action"] });
    await waitFor("the conclusion", () => seen.at(-1)?.concluded === true);
    expect(seen.at(-1)!.conclusions).toEqual([{ text: "SQLite", tags: ["decision", "action"], concludedBy: plainName, concludedAt: expect.any(Number) }]);
    await expect(third.call(api.discussions.post, { key: "db", text: "too late" })).rejects.toMatchObject({
      code: "failed_precondition",
      message: "discussion 'db' is concluded; its owner or an admin can reopen it with: ocfleet discuss reopen db",
    });

    // An admin may reopen (and conclude) anyone's discussion; earlier conclusions are kept.
    await owner.call(api.discussions.reopen, { key: "db" });
    await third.call(api.discussions.post, { key: "db", text: "what about backups?" });
    await owner.call(api.discussions.conclude, { key: "db", conclusion: "VACUUM INTO nightly", tags: ["action"] });
    await waitFor("the second conclusion", () => seen.at(-1)?.conclusions.length === 2);
    const final = seen.at(-1)!;
    expect(final.conclusions.map((c) => [c.text, c.tags, c.concludedBy])).toEqual([
      ["SQLite", ["decision", "action"], plainName],
      ["VACUUM INTO nightly", ["action"], ownerName],
    ]);
    expect(final.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    sub.unsubscribe();
    third.close();
  });

  it("refuses bad input with a clear error and writes nothing", async () => {
    await expect(plain.call(api.discussions.post, { key: "nope", text: "hi" })).rejects.toMatchObject({
      code: "not_found",
      message: "no discussion 'nope'; open it with: ocfleet discuss open nope",
    });
    await plain.call(api.discussions.open, { key: "empty" });
    await expect(plain.call(api.discussions.post, { key: "empty", text: "   " })).rejects.toMatchObject({
      code: "invalid_argument",
      message: "text: must not be empty",
      data: { method: "discussions.post", field: "text" },
    });
    await expect(plain.call(api.discussions.conclude, { key: "empty", conclusion: "x", tags: ["decree" as never] })).rejects.toMatchObject({
      code: "invalid_argument",
      data: { field: "tags.0" },
    });
    await expect(plain.call(api.discussions.open, { key: "empty" })).rejects.toMatchObject({ code: "already_exists" });
    expect(await plain.call(api.discussions.get, { key: "empty" })).toMatchObject({ messages: [], conclusions: [], concluded: false });
    expect(await plain.call(api.discussions.get, { key: "nope" })).toBeNull();
  });
});

describe("ocfleet discuss", () => {
  it("opens, posts, concludes with repeated tags and shows a discussion", async () => {
    await cliJson(home, ["discuss", "open", "release", "--title", "Release 1.0"]);
    await cliJson(home, ["discuss", "post", "release", "ship on Friday?"]);
    const concluded = await cliJson<DiscussionView>(home, [
      "discuss",
      "conclude",
      "release",
      "--conclusion",
      "ship Friday",
      "--tag",
      "decision",
      "--tag",
      "note",
    ]);
    expect(concluded.conclusions[0]).toMatchObject({ text: "ship Friday", tags: ["decision", "note"] });
    const shown = await runCli(home, ["discuss", "show", "release"]);
    expect(shown.stdout).toContain("Release 1.0 (release)  concluded");
    expect(shown.stdout).toContain("[decision, note] ship Friday");
    const refused = await runCli(home, ["discuss", "post", "release", "one more thing"]);
    expect(refused).toMatchObject({
      code: 1,
      stderr: "ocfleet: discussion 'release' is concluded; its owner or an admin can reopen it with: ocfleet discuss reopen release\n",
    });
    const badTag = await runCli(home, ["discuss", "conclude", "release", "--conclusion", "x", "--tag", "whim"]);
    expect(badTag).toMatchObject({ code: 2, stderr: "ocfleet: --tag must be decision, action or note, not 'whim'\n" });
    expect((await cliJson(home, ["discuss", "list"])).map((d: { key: string }) => d.key)).toContain("release");
  });
});
