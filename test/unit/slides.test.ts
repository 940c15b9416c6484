import { describe, expect, it } from "vitest";
import { SlideFollower } from "../../src/client/presentation.js";
import { splitSlides } from "../../src/daemon/functions/presentations.js";
import type { PresentationView } from "../../src/protocol/api/index.js";

describe("splitting a deck into slides", () => {
  it("splits on lines that are exactly ---, and nowhere else", () => {
    expect(splitSlides("# One\ntext\n---\n# Two\n--- not a rule\n ---\n----\n---\n# Three")).toEqual([
      "# One\ntext",
      "# Two\n--- not a rule\n ---\n----",
      "# Three",
    ]);
  });

  it("drops empty slides at the start and the end, keeps empty ones between, and reads CRLF files", () => {
    expect(splitSlides("---\n\n---\r\n# A\r\n---\r\n\r\n---\r\n# B\r\n---\n  \n")).toEqual(["# A", "", "# B"]);
    expect(splitSlides("\n---\n   \n---\n")).toEqual([]);
    expect(splitSlides("")).toEqual([]);
  });

  it("does not split inside fenced code blocks", () => {
    const deck = "# Config\n```yaml\n---\nkey: value\n```\n---\n~~~\n---\n~~~\n---\n# End";
    expect(splitSlides(deck)).toEqual(["# Config\n```yaml\n---\nkey: value\n```", "~~~\n---\n~~~", "# End"]);
  });
});

describe("following a presentation", () => {
  const view = (version: number, current: number, id = "prs_0000000000000000"): PresentationView =>
    ({ id, version, current, slide: `slide ${current}`, state: "running" }) as PresentationView;

  it("shows views in version order only: a frame that arrives late never moves the follower back", () => {
    const follower = new SlideFollower();
    const arrivals = [view(1, 1), view(3, 4), view(2, 2), view(3, 4), view(4, 5), view(2, 2)];
    expect(arrivals.map((v) => follower.accept(v))).toEqual([true, true, false, false, true, false]);
    expect(follower.current).toMatchObject({ version: 4, current: 5 });
  });

  it("takes the first view of another presentation, and a missing one only before any view", () => {
    const follower = new SlideFollower();
    expect(follower.accept(null)).toBe(true);
    expect(follower.accept(view(7, 3))).toBe(true);
    expect(follower.accept(null)).toBe(false);
    expect(follower.accept(view(1, 1, "prs_1111111111111111"))).toBe(true);
  });
});
