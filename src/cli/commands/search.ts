// ocfleet chat search: the text of every chat you may read, best matches first.
import type { Command } from "../commander.js";
import { api, type SearchHit, type SearchRole, type SnippetPiece } from "../../protocol/api/index.js";
import { CliError, colorEnabled, formatAge, style } from "../output.js";
import { defineRead } from "../command.js";

interface SearchOptions {
  worker?: string;
  machine?: string;
  since?: string;
  role?: string;
  limit?: string;
  all?: boolean;
}

const ROLES: readonly SearchRole[] = ["user", "assistant", "tool"];

/** One line: matches in bold on a terminal, in [brackets] elsewhere. The pieces are sanitized already. */
function renderSnippet(pieces: SnippetPiece[]): string {
  return pieces
    .map((p) => {
      const text = p.text.replace(/\s+/g, " ");
      if (!p.match) return text;
      return colorEnabled ? style.bold(style.yellow(text)) : `[${text}]`;
    })
    .join("")
    .trim();
}

function renderHits(hits: SearchHit[]): string[] {
  if (hits.length === 0) return [style.dim("nothing found")];
  return hits.map(
    (h) =>
      `${style.bold(h.chatTitle)} ${style.dim(`${h.chatId} · ${h.workerName}${h.machineName ? `@${h.machineName}` : ""} · ${h.role} · ${formatAge(h.at)}`)}\n  ${renderSnippet(h.snippet)}`,
  );
}

export function registerChatSearchCommand(chat: Command): void {
  defineRead(
    chat
      .command("search <words>")
      .description('search the text of your chats (prompts, replies, reasoning, tools): "a phrase", prefix*, -excluded, a OR b')
      .option("--worker <worker>", "only chats on this worker (id or name)")
      .option("--machine <machine>", "only chats on this machine's workers")
      .option("--since <age>", "only messages this recent: 30m, 12h, 7d, 4w")
      .option("--role <role>", "only user prompts, assistant replies, or tool calls (user|assistant|tool)")
      .option("--limit <n>", "at most this many results (default 20, at most 200)")
      .option("--all", "every user's chats (admins)"),
    {
      jsonHelp: "print JSON (chatId and messageId feed `ocfleet chat show`)",
      fields: { query: "<words>" },
      check: (_args, options: SearchOptions) => {
        if (options.role !== undefined && !ROLES.includes(options.role as SearchRole))
          throw new CliError(`--role: must be user, assistant or tool, not '${options.role}'`, 2);
        if (options.limit !== undefined && !/^\d+$/.test(options.limit)) throw new CliError(`--limit: must be a whole number, not '${options.limit}'`, 2);
      },
      run: (c, [words], options: SearchOptions) =>
        c.call(api.search.messages, {
          query: words!,
          ...(options.worker ? { worker: options.worker } : {}),
          ...(options.machine ? { machine: options.machine } : {}),
          ...(options.since ? { since: options.since } : {}),
          ...(options.role ? { role: options.role as SearchRole } : {}),
          ...(options.limit ? { limit: Number(options.limit) } : {}),
          ...(options.all ? { all: true } : {}),
        }),
      human: (hits) => renderHits(hits),
    },
  );
}
