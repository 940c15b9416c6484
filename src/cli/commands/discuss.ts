// ocfleet discuss …: discussions under a key; the opener (or an admin) concludes them with tags.
import type { Command } from "../commander.js";
import { CONCLUSION_TAGS as TAGS } from "../../protocol/api/discussions.js";
import { api, type ConclusionTag, type DiscussionView } from "../../protocol/api/index.js";
import { CliError, formatAge, formatTable, style } from "../output.js";
import { defineRead } from "../command.js";
import { defineWatch } from "../watch.js";

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

  defineRead(discuss.command("open <key>").description("open a discussion; you own it").option("--title <title>", "what it is about"), {
    run: (c, [key], options: { title?: string }) =>
      c.call(api.discussions.open, { key: key!, ...(options.title !== undefined ? { title: options.title } : {}) }),
    human: (_view, [key]) => `opened discussion ${key}; post with: ocfleet discuss post ${key} "text"`,
  });

  defineRead(discuss.command("post <key> <text>").description("post a message to an open discussion"), {
    run: (c, [key, text]) => c.call(api.discussions.post, { key: key!, text: text! }),
    human: (message, [key]) => `posted message ${message.seq} to ${key}`,
  });

  defineRead(discuss.command("show <key>").description("the messages and conclusions of a discussion"), {
    run: (c, [key]) => c.call(api.discussions.get, { key: key! }),
    human: (view, [key]) => {
      if (!view) throw new CliError(`no discussion '${key}'; open it with: ocfleet discuss open ${key}`);
      return renderDiscussion(view);
    },
  });

  defineRead(discuss.command("list").description("every discussion, most recently active first"), {
    run: (c) => c.call(api.discussions.list, {}),
    human: (all) => {
      if (all.length === 0) return style.dim("no discussions yet; open one with: ocfleet discuss open <key>");
      return formatTable([
        ["KEY", "TITLE", "STATE", "MESSAGES", "OWNER", "UPDATED"].map(style.dim),
        ...all.map((d) => [d.key, d.title ?? "", d.concluded ? "concluded" : "open", String(d.messageCount), d.ownerName, formatAge(d.updatedAt)]),
      ]);
    },
  });

  defineRead(
    discuss
      .command("conclude <key>")
      .description("record a conclusion and close the discussion to posts (owner or admin)")
      .requiredOption("--conclusion <text>", "what was concluded")
      .option("--tag <tag>", "decision, action or note; repeat for several", collectTag),
    {
      run: (c, [key], options: { conclusion: string; tag?: string[] }) => {
        const tags = parseTags(options.tag);
        return c.call(api.discussions.conclude, { key: key!, conclusion: options.conclusion, ...(tags ? { tags } : {}) });
      },
      human: (view) => renderDiscussion(view),
    },
  );

  defineRead(discuss.command("reopen <key>").description("open a concluded discussion again (owner or admin); its conclusions are kept"), {
    run: (c, [key]) => c.call(api.discussions.reopen, { key: key! }),
    human: (_view, [key]) => `reopened discussion ${key}`,
  });

  defineWatch(discuss.command("watch <key>").description("print the discussion again on every post or conclusion (Ctrl-C to stop)"), ([key]) => ({
    query: api.discussions.get,
    args: { key: key! },
    label: key!,
    render: (view) => (view ? renderDiscussion(view) : style.dim(`no discussion '${key}' yet; waiting for it to be opened…`)),
  }));
}
