// ocfleet present …: a markdown deck split into slides; the presenter moves, followers follow.
// The client reads the file (and refuses what is not markdown); the daemon splits it into slides.
import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import type { Command } from "../commander.js";
import type { FleetConnection } from "../../client/connection.js";
import { SlideFollower } from "../../client/presentation.js";
import { api, type PresentationSummary, type PresentationView, type PresenterCommandResult } from "../../protocol/api/index.js";
import { CliError, formatAge, formatTable, style } from "../output.js";
import { notice, openDaemonConnection, type CommandOptions } from "../session.js";
import { defineRead, runAction } from "../command.js";
import { watchQuery } from "../watch.js";

const MARKDOWN_EXTENSIONS = new Set([".md", ".markdown", ".mdown", ".mkd", ".mkdn"]);
/** The daemon's limit too; checked here so a huge file is not sent at all. */
const MAX_DECK_BYTES = 512 * 1024;

/** Reads a markdown file, refusing anything else with a reason a person can act on. */
export async function readDeck(file: string): Promise<string> {
  if (!MARKDOWN_EXTENSIONS.has(extname(file).toLowerCase())) {
    throw new CliError(`${file} is not a markdown file; give a .md file (slides are separated by lines that are exactly ---)`, 2);
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      code === "ENOENT"
        ? `${file} does not exist`
        : code === "EISDIR"
          ? `${file} is a directory, not a markdown file`
          : `cannot read ${file}: ${(err as Error).message}`,
    );
  }
  if (bytes.length > MAX_DECK_BYTES)
    throw new CliError(`${file} is ${Math.round(bytes.length / 1024)} KiB; a deck may be at most ${MAX_DECK_BYTES / 1024} KiB`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    text = "\u0000";
  }
  if (text.includes("\u0000")) throw new CliError(`${file} is not text (it is not UTF-8, or holds NUL bytes); give a markdown file`);
  return text;
}

/** A light touch for the terminal: headings bold, code dim; the rest as written. */
export function renderSlideMarkdown(markdown: string): string {
  let inFence = false;
  return markdown
    .split("\n")
    .map((line) => {
      if (/^ {0,3}(`{3,}|~{3,})/.test(line)) {
        inFence = !inFence;
        return style.dim(line);
      }
      if (inFence) return style.dim(line);
      const heading = /^#{1,6}\s+(.*)$/.exec(line);
      return heading ? style.bold(heading[1]!) : line;
    })
    .join("\n");
}

export function renderPresentation(view: PresentationView): string {
  const where = view.state === "stopped" ? style.yellow("ended") : `slide ${view.current}/${view.slideCount}`;
  const header = `${style.bold(view.title)}  ${style.dim(`${where} · presented by ${view.presenterName}`)}`;
  return `${header}\n${style.dim("─".repeat(Math.min(process.stdout.columns || 60, 60)))}\n${renderSlideMarkdown(view.slide)}`;
}

function renderList(all: PresentationSummary[]): string {
  if (all.length === 0) return style.dim("no presentation is running; start one with: ocfleet present start <file.md>");
  return formatTable([
    ["ID", "TITLE", "PRESENTER", "SLIDE", "STATE", "STARTED"].map(style.dim),
    ...all.map((p) => [p.id, p.title, p.presenterName, `${p.current}/${p.slideCount}`, p.state, formatAge(p.startedAt)]),
  ]);
}

/** The presentation to follow: the one named, or the newest running one. */
async function followTarget(connection: FleetConnection, id: string | undefined): Promise<string> {
  if (id !== undefined) {
    if (!(await connection.call(api.presentations.get, { id }))) throw new CliError(`no presentation ${id} (see: ocfleet present list --all)`);
    return id;
  }
  const running = await connection.call(api.presentations.list, {});
  if (running.length === 0) throw new CliError("no presentation is running; start one with: ocfleet present start <file.md>");
  return running[0]!.id;
}

/** What a presenter's command did; one that was not applied says why (stderr) and prints nothing. */
function describeCommand(result: PresenterCommandResult): string | undefined {
  const p = result.presentation;
  if (!result.applied) {
    notice(`ignored: ${result.reason ?? "not applied"}; '${p.title}' is on slide ${p.current}/${p.slideCount}`);
    return undefined;
  }
  if (p.state === "stopped") return `stopped '${p.title}'`;
  const firstLine = p.slide.split("\n").find((line) => line.trim() !== "") ?? "";
  return `slide ${p.current}/${p.slideCount}${result.reason ? style.dim(` (${result.reason})`) : ""}: ${firstLine.replace(/^#+\s*/, "")}`;
}

export function registerPresentCommands(program: Command): void {
  const present = program.command("present").description("presentations: a markdown deck, slides moved by the presenter, followed live");

  defineRead(
    present
      .command("start <file>")
      .description("present a markdown file, split into slides on lines that are exactly ---; you are the presenter")
      .option("--title <title>", "the title (default: the deck's first heading)"),
    {
      fields: { markdown: "<file>" },
      run: async (c, [file], options: { title?: string }) =>
        c.call(api.presentations.start, { markdown: await readDeck(file!), ...(options.title ? { title: options.title } : {}) }),
      human: (view, [file]) => [
        `presenting '${view.title}' (${view.slideCount} slides from ${basename(file!)}) as ${view.id}`,
        style.dim(`others follow with: ocfleet present follow ${view.id}   · you move with: ocfleet present next|prev|goto N|stop`),
      ],
    },
  );

  defineRead(present.command("list").description("running presentations, newest first").option("--all", "ended ones too"), {
    run: (c, _args, options: { all?: boolean }) => c.call(api.presentations.list, options.all ? { all: true } : {}),
    human: (all) => renderList(all),
  });

  defineRead(present.command("show [id]").description("the current slide once (default: the newest running presentation)"), {
    run: async (c, [id]) => c.call(api.presentations.get, { id: await followTarget(c, id) }),
    human: (view) => (view ? renderPresentation(view) : undefined),
  });

  present
    .command("follow [id]")
    .description("show the current slide and follow the presenter live (default: the newest running presentation)")
    .option("--json", "print one JSON line per slide change")
    .action((id: string | undefined, _options: CommandOptions, command: Command) => {
      const options = command.optsWithGlobals<CommandOptions>();
      return runAction(command, options, undefined, async () => {
        const connection = await openDaemonConnection(options);
        const target = await followTarget(connection, id).finally(() => connection.close());
        const follower = new SlideFollower();
        await watchQuery(options, {
          query: api.presentations.get,
          args: { id: target },
          label: target,
          render: (view) => (view ? renderPresentation(view) : style.dim(`no presentation ${target}`)),
          accept: (view) => follower.accept(view),
          done: (view) => view?.state === "stopped",
        });
      });
    });

  const move = (usage: string, description: string, run: (c: FleetConnection, args: string[]) => Promise<PresenterCommandResult>) =>
    defineRead(present.command(usage).description(description), { run, human: describeCommand });

  move("next [id]", "move to the next slide (presenter only)", (c, [id]) => c.call(api.presentations.next, { at: Date.now(), ...(id ? { id } : {}) }));
  move("prev [id]", "move to the previous slide (presenter only)", (c, [id]) => c.call(api.presentations.prev, { at: Date.now(), ...(id ? { id } : {}) }));
  move("goto <slide> [id]", "move to slide N, 1 is the first (presenter only)", (c, [slide, id]) => {
    if (!/^\d+$/.test(slide!) || Number(slide) < 1) throw new CliError(`<slide> must be a slide number (1, 2, …), not '${slide}'`, 2);
    return c.call(api.presentations.goto, { at: Date.now(), slide: Number(slide), ...(id ? { id } : {}) });
  });
  move("stop [id]", "end the presentation (presenter only)", (c, [id]) => c.call(api.presentations.stop, { at: Date.now(), ...(id ? { id } : {}) }));
}
