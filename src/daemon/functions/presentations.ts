// presentations: a markdown deck split into slides. The starter presents; only they move the
// slides or stop it. Commands race by the presenter's clock (last writer wins), and every applied
// change raises the version, so followers can refuse anything older than what they show.
import { z } from "zod";
import { api, type PresentationSummary, type PresentationView, type PresenterCommandResult } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import type { PresentationId, UserId } from "../../protocol/ids.js";
import { newId } from "../crypto.js";
import { idArg } from "./args.js";
import { defineMutation, defineQuery, type MutationCtx, type QueryCtx } from "./define.js";
import { TABLES } from "../model/tables.js";

/** Live-query table: keyed by presentation id. */
export const MAX_SLIDES = 300;
export const MAX_DECK_CHARS = 512 * 1024;
/**
 * A presenter's clock may run ahead of the hub's by at most this much. A command stamped further
 * ahead counts as stamped now + this, so one device with a fast clock cannot lock out the others.
 */
export const MAX_CLOCK_AHEAD_MS = 2000;

/**
 * Splits markdown into slides on lines that are exactly `---` (a trailing CR is allowed), except
 * inside fenced code blocks. Empty slides at the start and end are dropped; empty ones between
 * are kept, as a deliberate pause.
 */
export function splitSlides(markdown: string): string[] {
  const slides: string[] = [];
  let current: string[] = [];
  let fence: string | null = null;
  for (const rawLine of markdown.split("\n")) {
    const line = rawLine.replace(/\r$/, "");
    const opener = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === null && opener) fence = opener;
    else if (fence !== null && opener && opener[0] === fence[0] && opener.length >= fence.length && line.trim() === opener) fence = null;
    if (fence === null && line === "---") {
      slides.push(current.join("\n"));
      current = [];
      continue;
    }
    current.push(line);
  }
  slides.push(current.join("\n"));
  const trimmed = slides.map((slide) => slide.replace(/^\s*\n/, "").trimEnd());
  while (trimmed.length > 0 && trimmed[0]!.trim() === "") trimmed.shift();
  while (trimmed.length > 0 && trimmed.at(-1)!.trim() === "") trimmed.pop();
  return trimmed;
}

/** The first heading of the deck, as a default title. */
function firstHeading(slides: readonly string[]): string | null {
  for (const slide of slides) {
    const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/m.exec(slide)?.[1];
    if (heading) return heading.slice(0, 200);
  }
  return null;
}

interface PresentationRow {
  id: PresentationId;
  title: string;
  presenter_id: UserId;
  presenter_name: string;
  state: "running" | "stopped";
  slide_count: number;
  current_slide: number;
  version: number;
  command_at: number;
  started_at: number;
  stopped_at: number | null;
}

const SELECT_PRESENTATION = "SELECT p.*, u.name AS presenter_name FROM presentations p JOIN users u ON u.id = p.presenter_id";

function toSummary(row: PresentationRow): PresentationSummary {
  return {
    id: row.id,
    title: row.title,
    presenterId: row.presenter_id,
    presenterName: row.presenter_name,
    state: row.state,
    slideCount: row.slide_count,
    current: row.current_slide,
    version: row.version,
    commandAt: row.command_at,
    startedAt: row.started_at,
    stoppedAt: row.stopped_at,
  };
}

function toView(ctx: QueryCtx, row: PresentationRow): PresentationView {
  const slide = ctx.db.prepare("SELECT markdown FROM presentation_slides WHERE presentation_id = ? AND position = ?").get(row.id, row.current_slide) as
    | { markdown: string }
    | undefined;
  return { ...toSummary(row), slide: slide?.markdown ?? "" };
}

function loadPresentation(ctx: QueryCtx, id: string): PresentationRow | undefined {
  ctx.reads(TABLES.presentations, id);
  return ctx.db.prepare(`${SELECT_PRESENTATION} WHERE p.id = ?`).get(id) as PresentationRow | undefined;
}

/** The presentation a presenter command is for: the one named, or the caller's newest running one. */
function commandTarget(ctx: MutationCtx<"user">, id: string | undefined): PresentationRow {
  if (id === undefined) {
    const row = ctx.db.prepare(`${SELECT_PRESENTATION} WHERE p.presenter_id = ? AND p.state = 'running' ORDER BY p.started_at DESC LIMIT 1`).get(ctx.user.id) as
      | PresentationRow
      | undefined;
    if (!row) throw new FleetError("not_found", "you are not presenting anything; start with: ocfleet present start <file.md>");
    return row;
  }
  const row = loadPresentation(ctx, id);
  if (!row) throw new FleetError("not_found", `no presentation ${id} (see: ocfleet present list)`, { id });
  return row;
}

/** Where a command moves the deck; `note` says why it stays put (next on the last slide). */
type Move = { slide: number; note?: string } | { stop: true };

/**
 * Applies one presenter command, last writer wins: it takes effect only if its timestamp is newer
 * than that of the command in effect. `decide` names the move, or throws for bad input (checked
 * before the race, so a bad command is refused even if it would have lost).
 */
function command(ctx: MutationCtx<"user">, args: { id?: string; at: number }, verb: string, decide: (row: PresentationRow) => Move): PresenterCommandResult {
  const row = commandTarget(ctx, args.id);
  if (row.presenter_id !== ctx.user.id) {
    throw new FleetError(
      "permission_denied",
      `only ${row.presenter_name} (the presenter) can ${verb} '${row.title}'; to watch it: ocfleet present follow ${row.id}`,
    );
  }
  if (row.state === "stopped") throw new FleetError("failed_precondition", `presentation '${row.title}' has ended`, { id: row.id });
  const move = decide(row);
  const at = Math.min(args.at, ctx.now + MAX_CLOCK_AHEAD_MS);
  if (at <= row.command_at) {
    return { applied: false, reason: "a newer command from the presenter was applied first", presentation: toView(ctx, row) };
  }
  // Even a command that leaves the slide where it is takes effect: it is now the newest, and an
  // older one arriving after it must still lose.
  if ("stop" in move) ctx.db.prepare("UPDATE presentations SET state = 'stopped', stopped_at = ? WHERE id = ?").run(ctx.now, row.id);
  else ctx.db.prepare("UPDATE presentations SET current_slide = ? WHERE id = ?").run(move.slide, row.id);
  ctx.db.prepare("UPDATE presentations SET version = version + 1, command_at = ?, updated_at = ? WHERE id = ?").run(at, ctx.now, row.id);
  ctx.writes(TABLES.presentations, row.id);
  const note = "slide" in move ? (move.note ?? null) : null;
  return { applied: true, reason: note, presentation: toView(ctx, loadPresentation(ctx, row.id)!) };
}

const commandArgs = { id: idArg("presentation").optional(), at: z.number().int().positive("must be the client's clock in ms since the epoch") };

export const start = defineMutation(api.presentations.start, {
  access: "user",
  args: z.strictObject({
    markdown: z
      .string()
      .max(MAX_DECK_CHARS, `must be at most ${MAX_DECK_CHARS / 1024} KiB`)
      .refine((text) => !text.includes("\u0000"), "is not text (it contains NUL bytes); give a markdown file"),
    title: z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters").optional(),
  }),
  handler: (ctx, { markdown, title }) => {
    const slides = splitSlides(markdown);
    if (slides.length === 0)
      throw new FleetError("invalid_argument", "the deck is empty: write some markdown, with slides separated by lines that are exactly ---", {
        field: "markdown",
      });
    if (slides.length > MAX_SLIDES) {
      throw new FleetError("invalid_argument", `the deck has ${slides.length} slides; at most ${MAX_SLIDES} are allowed`, { field: "markdown" });
    }
    const id = newId("presentation");
    ctx.db
      .prepare(
        `INSERT INTO presentations (id, title, presenter_id, state, slide_count, current_slide, version, command_at, started_at, updated_at)
         VALUES (?, ?, ?, 'running', ?, 1, 1, ?, ?, ?)`,
      )
      .run(id, title ?? firstHeading(slides) ?? "Untitled presentation", ctx.user.id, slides.length, ctx.now, ctx.now, ctx.now);
    const insert = ctx.db.prepare("INSERT INTO presentation_slides (presentation_id, position, markdown) VALUES (?, ?, ?)");
    slides.forEach((slide, i) => insert.run(id, i + 1, slide));
    ctx.writes(TABLES.presentations, id);
    return toView(ctx, loadPresentation(ctx, id)!);
  },
});

export const list = defineQuery(api.presentations.list, {
  access: "user",
  args: z.strictObject({ all: z.boolean().optional() }),
  handler: (ctx, { all }) => {
    ctx.reads(TABLES.presentations);
    const sql = all
      ? `${SELECT_PRESENTATION} ORDER BY p.started_at DESC LIMIT 200`
      : `${SELECT_PRESENTATION} WHERE p.state = 'running' ORDER BY p.started_at DESC`;
    return (ctx.db.prepare(sql).all() as PresentationRow[]).map(toSummary);
  },
});

export const get = defineQuery(api.presentations.get, {
  access: "user",
  args: z.strictObject({ id: idArg("presentation") }),
  handler: (ctx, { id }) => {
    const row = loadPresentation(ctx, id);
    return row ? toView(ctx, row) : null;
  },
});

export const next = defineMutation(api.presentations.next, {
  access: "user",
  args: z.strictObject(commandArgs),
  handler: (ctx, args) =>
    command(ctx, args, "move to the next slide of", (row) =>
      row.current_slide < row.slide_count ? { slide: row.current_slide + 1 } : { slide: row.current_slide, note: "already on the last slide" },
    ),
});

export const prev = defineMutation(api.presentations.prev, {
  access: "user",
  args: z.strictObject(commandArgs),
  handler: (ctx, args) =>
    command(ctx, args, "move to the previous slide of", (row) =>
      row.current_slide > 1 ? { slide: row.current_slide - 1 } : { slide: 1, note: "already on the first slide" },
    ),
});

export const goto = defineMutation(api.presentations.goto, {
  access: "user",
  args: z.strictObject({ ...commandArgs, slide: z.number().int("must be a whole number").min(1, "must be 1 or more") }),
  handler: (ctx, args) =>
    command(ctx, args, "move the slides of", (row) => {
      if (args.slide > row.slide_count) {
        throw new FleetError(
          "invalid_argument",
          `slide ${args.slide} is out of range: '${row.title}' has ${row.slide_count} slide${row.slide_count === 1 ? "" : "s"}`,
          { field: "slide" },
        );
      }
      return { slide: args.slide };
    }),
});

export const stop = defineMutation(api.presentations.stop, {
  access: "user",
  args: z.strictObject(commandArgs),
  handler: (ctx, args) => command(ctx, args, "stop", () => ({ stop: true })),
});
