import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { SlideFollower } from "../../src/client/presentation.js";
import { api, type PresentationView, type PresenterCommandResult } from "../../src/protocol/api/index.js";
import { cleanupHomes, connectWithSession, twoUsers, createHome, runCli, startCli, waitFor } from "../helpers/daemon.js";

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

const deck = (n: number) => Array.from({ length: n }, (_, i) => `# Slide ${i + 1}\n\ntext ${i + 1}`).join("\n\n---\n\n");

/** Every view a client receives for a presentation, in arrival order. */
function follow(client: FleetConnection, id: string): { views: PresentationView[]; stop(): void } {
  const views: PresentationView[] = [];
  const sub = client.subscribe(api.presentations.get, { id }, { onValue: (v) => v && views.push(v) });
  return { views, stop: () => sub.unsubscribe() };
}

describe("presentations between two users", () => {
  it("the presenter moves the slides and a follower sees each move live; anyone else is refused", async () => {
    const started = await plain.call(api.presentations.start, { markdown: deck(3) });
    expect(started).toMatchObject({
      title: "Slide 1",
      presenterName: plainName,
      state: "running",
      slideCount: 3,
      current: 1,
      slide: "# Slide 1\n\ntext 1",
      version: 1,
    });
    const watcher = follow(owner, started.id);
    await waitFor("the first view", () => watcher.views.length === 1);

    await plain.call(api.presentations.next, { id: started.id, at: Date.now() });
    await waitFor("the follower to see slide 2", () => watcher.views.at(-1)?.current === 2);
    expect(watcher.views.at(-1)!.slide).toBe("# Slide 2\n\ntext 2");

    // The machine's owner is an admin, and still not the presenter.
    for (const attempt of [
      () => owner.call(api.presentations.next, { id: started.id, at: Date.now() }),
      () => owner.call(api.presentations.goto, { id: started.id, slide: 1, at: Date.now() }),
      () => owner.call(api.presentations.stop, { id: started.id, at: Date.now() }),
    ]) {
      await expect(attempt()).rejects.toMatchObject({
        code: "permission_denied",
        message: expect.stringMatching(
          new RegExp(`^only ${plainName} \\(the presenter\\) can .* 'Slide 1'; to watch it: ocfleet present follow ${started.id}$`),
        ),
      });
    }
    await expect(owner.call(api.presentations.prev, { at: Date.now() })).rejects.toMatchObject({
      code: "not_found",
      message: "you are not presenting anything; start with: ocfleet present start <file.md>",
    });

    // A slide out of range is an error and changes nothing.
    await expect(plain.call(api.presentations.goto, { id: started.id, slide: 4, at: Date.now() })).rejects.toMatchObject({
      code: "invalid_argument",
      message: "slide 4 is out of range: 'Slide 1' has 3 slides",
      data: { field: "slide" },
    });
    expect(await owner.call(api.presentations.get, { id: started.id })).toMatchObject({ current: 2, version: 2 });

    const stopped = await plain.call(api.presentations.stop, { at: Date.now() }); // no id: the caller's newest running one
    expect(stopped.presentation).toMatchObject({ id: started.id, state: "stopped" });
    await waitFor("the follower to see the end", () => watcher.views.at(-1)?.state === "stopped");
    await expect(plain.call(api.presentations.next, { id: started.id, at: Date.now() })).rejects.toMatchObject({
      code: "failed_precondition",
      message: "presentation 'Slide 1' has ended",
    });
    expect((await owner.call(api.presentations.list, {})).map((p) => p.id)).not.toContain(started.id);
    expect((await owner.call(api.presentations.list, { all: true })).map((p) => p.id)).toContain(started.id);
    expect(watcher.views.map((v) => v.version)).toEqual([1, 2, 3]);
    watcher.stop();
  });

  it("out-of-order presenter commands: the newest timestamp wins, and a late one changes nothing", async () => {
    const { id } = await plain.call(api.presentations.start, { markdown: deck(10), title: "Races" });
    const base = Date.now();
    expect(await plain.call(api.presentations.goto, { id, slide: 5, at: base + 300 })).toMatchObject({
      applied: true,
      presentation: { current: 5, version: 2 },
    });
    // Sent earlier by the presenter (another terminal), delivered later: both lose.
    const late = await plain.call(api.presentations.goto, { id, slide: 2, at: base + 100 });
    expect(late).toMatchObject({ applied: false, reason: "a newer command from the presenter was applied first", presentation: { current: 5, version: 2 } });
    expect(await plain.call(api.presentations.next, { id, at: base + 200 })).toMatchObject({ applied: false, presentation: { current: 5 } });
    expect(await plain.call(api.presentations.prev, { id, at: base + 400 })).toMatchObject({
      applied: true,
      presentation: { current: 4, version: 3, commandAt: base + 400 },
    });
  });

  it("two presenter terminals racing: followers see versions and command times only go up, and the newest command is where it ends", async () => {
    const { id } = await plain.call(api.presentations.start, { markdown: deck(30), title: "Storm" });
    // The same presenter in a second terminal: a login code signs a second connection in as them.
    const second = await connectWithSession(home);
    const { code } = await plain.call(api.auth.createLoginCode, {});
    await second.call(api.auth.loginWithCode, { code });
    const watchers = [follow(owner, id), follow(second, id)];
    await waitFor("first views", () => watchers.every((w) => w.views.length === 1));

    const base = Date.now();
    const stamps = Array.from({ length: 30 }, (_, i) => base + 10 * (i + 1));
    const shuffled = [...stamps].sort(() => Math.random() - 0.5);
    const results = await Promise.all(
      shuffled.map((at, i) => (i % 2 === 0 ? plain : second).call(api.presentations.goto, { id, at, slide: stamps.indexOf(at) + 1 })),
    );
    const newest = stamps.at(-1)!;
    await waitFor("every follower to reach the newest command", () => watchers.every((w) => w.views.at(-1)?.commandAt === newest));

    // Applied commands, in the order the daemon applied them, carry rising timestamps.
    const applied = results.filter((r: PresenterCommandResult) => r.applied).sort((a, b) => a.presentation.version - b.presentation.version);
    const appliedAt = applied.map((r) => r.presentation.commandAt);
    expect(appliedAt).toEqual([...appliedAt].sort((a, b) => a - b));
    expect(new Set(appliedAt).size).toBe(appliedAt.length);
    expect(applied.at(-1)!.presentation).toMatchObject({ current: 30, commandAt: newest });
    for (const { views } of watchers) {
      for (let i = 1; i < views.length; i++) {
        expect(views[i]!.version).toBeGreaterThan(views[i - 1]!.version);
        expect(views[i]!.commandAt).toBeGreaterThan(views[i - 1]!.commandAt);
      }
      expect(views.at(-1)!.current).toBe(30);
    }

    // A frame that arrives after a newer one (a reconnect, a second connection) is not shown.
    const follower = new SlideFollower();
    const seen = watchers[0]!.views;
    const arrival = [seen[0]!, seen.at(-1)!, ...seen.slice(1, -1)];
    expect(arrival.map((v) => follower.accept(v))).toEqual([true, true, ...seen.slice(1, -1).map(() => false)]);
    expect(follower.current!.current).toBe(30);
    watchers.forEach((w) => w.stop());
    second.close();
  });

  it("a presenter clock far ahead cannot lock out later commands for long", async () => {
    const { id } = await plain.call(api.presentations.start, { markdown: deck(3), title: "Skew" });
    const ahead = await plain.call(api.presentations.next, { id, at: Date.now() + 3_600_000 });
    expect(ahead.applied).toBe(true);
    expect(ahead.presentation.commandAt).toBeLessThanOrEqual(Date.now() + 2000);
    await new Promise((resolve) => setTimeout(resolve, ahead.presentation.commandAt - Date.now() + 10));
    expect(await plain.call(api.presentations.prev, { id, at: Date.now() })).toMatchObject({ applied: true, presentation: { current: 1 } });
  });

  it("refuses an empty deck, one with too many slides, or text that is not text, and writes nothing", async () => {
    const before = (await plain.call(api.presentations.list, { all: true })).length;
    await expect(plain.call(api.presentations.start, { markdown: "\n---\n  \n---\n" })).rejects.toMatchObject({
      code: "invalid_argument",
      message: "the deck is empty: write some markdown, with slides separated by lines that are exactly ---",
    });
    await expect(plain.call(api.presentations.start, { markdown: deck(301) })).rejects.toMatchObject({
      code: "invalid_argument",
      message: "the deck has 301 slides; at most 300 are allowed",
    });
    await expect(plain.call(api.presentations.start, { markdown: "a\u0000b" })).rejects.toMatchObject({
      code: "invalid_argument",
      data: { field: "markdown" },
    });
    await expect(plain.call(api.presentations.get, { id: "nope" })).rejects.toMatchObject({ code: "invalid_argument", data: { field: "id" } });
    expect((await plain.call(api.presentations.list, { all: true })).length).toBe(before);
  });
});

describe("ocfleet present", () => {
  it("follows another user's presentation live until it ends, and refuses a follower's commands", async () => {
    const { id } = await plain.call(api.presentations.start, { markdown: deck(3), title: "Live" });
    const follower = startCli(home, ["present", "follow", id, "--json"]);
    await follower.waitForOutput(/"current":1/);
    await plain.call(api.presentations.goto, { id, slide: 3, at: Date.now() });
    await follower.waitForOutput(/"current":3/);

    const refused = await runCli(home, ["present", "next", id]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`ocfleet: only ${plainName} (the presenter) can move to the next slide of 'Live'; to watch it: ocfleet present follow ${id}\n`);

    await plain.call(api.presentations.stop, { id, at: Date.now() });
    const done = await follower.done; // follow ends by itself when the presentation does
    expect(done.code).toBe(0);
    const lines = done.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as PresentationView);
    expect(lines.map((v) => [v.current, v.state])).toEqual([
      [1, "running"],
      [3, "running"],
      [3, "stopped"],
    ]);
  });

  it("starts from a markdown file and moves its slides; refuses files that are not markdown", async () => {
    const file = join(home, "talk.md");
    writeFileSync(file, "# Why\n\nbecause\n---\n## How\n\n```yaml\n---\nkey: value\n```\n---\n## Done\n");
    const started = await runCli(home, ["present", "start", file]);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(/^presenting 'Why' \(3 slides from talk\.md\) as prs_/);
    expect((await runCli(home, ["present", "next"])).stdout).toBe("slide 2/3: How\n");
    const shown = await runCli(home, ["present", "show", "--json"]);
    expect(JSON.parse(shown.stdout).slide).toBe("## How\n\n```yaml\n---\nkey: value\n```"); // a --- inside a code fence does not split
    expect(await runCli(home, ["present", "goto", "7"])).toMatchObject({ code: 2, stderr: "ocfleet: slide 7 is out of range: 'Why' has 3 slides\n" });
    expect((await runCli(home, ["present", "stop"])).stdout).toBe("stopped 'Why'\n");

    const notMarkdown = join(home, "talk.txt");
    writeFileSync(notMarkdown, "hello");
    expect(await runCli(home, ["present", "start", notMarkdown])).toMatchObject({
      code: 2,
      stderr: `ocfleet: ${notMarkdown} is not a markdown file; give a .md file (slides are separated by lines that are exactly ---)\n`,
    });
    const binary = join(home, "image.md");
    writeFileSync(binary, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]));
    expect(await runCli(home, ["present", "start", binary])).toMatchObject({
      code: 1,
      stderr: `ocfleet: ${binary} is not text (it is not UTF-8, or holds NUL bytes); give a markdown file\n`,
    });
  });
});
