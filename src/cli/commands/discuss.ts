// ocfleet discuss …: discussions under a key; the opener (or an admin) concludes them with tags.
import type { Command } from "../commander.js";
import { CONCLUSION_TAGS as TAGS } from "../../protocol/api/discussions.js";
import { api, type ConclusionTag, type DiscussionView } from "../../protocol/api/index.js";
import { CliError, formatAge, formatTable, print, printJson, style } from "../output.js";
import { withDaemon } from "../session.js";
import { watchQuery } from "../watch.js";

type JsonOption = { json?: boolean };

export function renderDiscussion(view: DiscussionView, now = Date.now()): string {
  const state = view.concluded ? style.yellow("concluded") : style.green("open");
  const lines = [
    `${style.bold(view.title ?? view.key)}${view.title ? style.dim(` (${view.key})`) : ""}  ${style.dim(`${state} · opened by ${view.ownerName} ${formatAge(view.createdAt, now)}`)}`,
  ];
  if (view.messages.length === 0) lines.push(style.dim("  (no messages yet)"));
  for (const m of view.messages) {
    lines.push(`${style.cyan(m.authorName)} ${style.dim(formatAge(m.createdAt, now))}`);
    lines.push(...m.text.split("\n").map((line) => `  ${line}`));
  }
  if (view.conclusions.length > 0) {
    lines.push("", style.bold("Conclusions"));
    for (const c of view.conclusions) {
      const tags = c.tags.length ? `[${c.tags.join(", ")}] ` : "";
      lines.push(`  ${style.yellow(tags)}${c.text} ${style.dim(`— ${c.concludedBy}, ${formatAge(c.concludedAt, now)}`)}`);
    }
  }
  return lines.join("\n");
}

/** Commander collects a repeatable option into an array. */
function collectTag(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

function parseTags(values: string[] | undefined): ConclusionTag[] | undefined {
  if (!values) return undefined;
  for (const tag of values) if (!(TAGS as readonly string[]).includes(tag)) throw new CliError(`--tag must be decision, action or note, not '${tag}'`, 2);
  return values as ConclusionTag[];
}

export function registerDiscussCommands(program: Command): void {
  const discuss = program.command("discuss").description("discussions under a key: post, then conclude with tagged conclusions");

  discuss
    .command("open <key>")
    .description("open a discussion; you own it")
    .option("--title <title>", "what it is about")
    .option("--json", "print JSON")
    .action((key: string, options: JsonOption & { title?: string }) =>
      withDaemon(options, async (connection) => {
        const view = await connection.call(api.discussions.open, { key, ...(options.title !== undefined ? { title: options.title } : {}) });
        if (options.json) printJson(view);
        else print(`opened discussion ${key}; post with: ocfleet discuss post ${key} "text"`);
      }),
    );

  discuss
    .command("post <key> <text>")
    .description("post a message to an open discussion")
    .option("--json", "print JSON")
    .action((key: string, text: string, options: JsonOption) =>
      withDaemon(options, async (connection) => {
        const message = await connection.call(api.discussions.post, { key, text });
        if (options.json) printJson(message);
        else print(`posted message ${message.seq} to ${key}`);
      }),
    );

  discuss
    .command("show <key>")
    .description("the messages and conclusions of a discussion")
    .option("--json", "print JSON")
    .action((key: string, options: JsonOption) =>
      withDaemon(options, async (connection) => {
        const view = await connection.call(api.discussions.get, { key });
        if (options.json) return printJson(view);
        if (!view) throw new CliError(`no discussion '${key}'; open it with: ocfleet discuss open ${key}`);
        print(renderDiscussion(view));
      }),
    );

  discuss
    .command("list")
    .description("every discussion, most recently active first")
    .option("--json", "print JSON")
    .action((options: JsonOption) =>
      withDaemon(options, async (connection) => {
        const all = await connection.call(api.discussions.list, {});
        if (options.json) return printJson(all);
        if (all.length === 0) return print(style.dim("no discussions yet; open one with: ocfleet discuss open <key>"));
        print(
          formatTable([
            ["KEY", "TITLE", "STATE", "MESSAGES", "OWNER", "UPDATED"].map(style.dim),
            ...all.map((d) => [d.key, d.title ?? "", d.concluded ? "concluded" : "open", String(d.messageCount), d.ownerName, formatAge(d.updatedAt)]),
          ]),
        );
      }),
    );

  discuss
    .command("conclude <key>")
    .description("record a conclusion and close the discussion to posts (owner or admin)")
    .requiredOption("--conclusion <text>", "what was concluded")
    .option("--tag <tag>", "decision, action or note; repeat for several", collectTag)
    .option("--json", "print JSON")
    .action((key: string, options: JsonOption & { conclusion: string; tag?: string[] }) =>
      withDaemon(options, async (connection) => {
        const tags = parseTags(options.tag);
        const view = await connection.call(api.discussions.conclude, { key, conclusion: options.conclusion, ...(tags ? { tags } : {}) });
        if (options.json) printJson(view);
        else print(renderDiscussion(view));
      }),
    );

  discuss
    .command("reopen <key>")
    .description("open a concluded discussion again (owner or admin); its conclusions are kept")
    .option("--json", "print JSON")
    .action((key: string, options: JsonOption) =>
      withDaemon(options, async (connection) => {
        const view = await connection.call(api.discussions.reopen, { key });
        if (options.json) printJson(view);
        else print(`reopened discussion ${key}`);
      }),
    );

  discuss
    .command("watch <key>")
    .description("print the discussion again on every post or conclusion (Ctrl-C to stop)")
    .option("--json", "print one JSON line per change")
    .action((key: string, options: JsonOption) =>
      watchQuery(options, {
        query: api.discussions.get,
        args: { key },
        label: key,
        render: (view) => (view ? renderDiscussion(view) : style.dim(`no discussion '${key}' yet; waiting for it to be opened…`)),
      }),
    );
}
