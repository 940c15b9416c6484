// ocfleet chat diff|apply and the worktree options of chat new/archive: what a chat changed, and
// bringing a worktree chat's changes into the worker's checkout. Nothing is committed for the user.
import type { Command } from "../commander.js";
import { api, type ChatDiff } from "../../protocol/api/index.js";
import { defineRead } from "../command.js";
import { CliError, style } from "../output.js";

/** Colours a unified diff that was already sanitized: the colour is ours, the text is git's. */
export function colourPatch(patch: string): string {
  return patch
    .split("\n")
    .map((line) => {
      if (/^(diff --git|index |\+\+\+ |--- |new file mode|deleted file mode|similarity|rename )/.test(line)) return style.bold(line);
      if (line.startsWith("@@")) return style.cyan(line);
      if (line.startsWith("+")) return style.green(line);
      if (line.startsWith("-")) return style.red(line);
      return line;
    })
    .join("\n");
}

function renderDiff(diff: ChatDiff, stat: boolean): string {
  const from =
    diff.source === "worktree" ? `branch ${diff.branch}, against the commit it branched from` : "the files OpenCode reports this chat's session edited";
  if (diff.files.length === 0) return style.dim(`no changes (${from})`);
  const added = diff.files.reduce((sum, f) => sum + f.added, 0);
  const removed = diff.files.reduce((sum, f) => sum + f.removed, 0);
  const summary = style.dim(`${diff.files.length} file(s), +${added} -${removed} (${from})`);
  if (stat) return `${diff.stat.replace(/\n$/, "")}\n${summary}`;
  return `${colourPatch(diff.patch.replace(/\n$/, ""))}\n${summary}`;
}

export function registerReviewCommands(chat: Command): void {
  defineRead(
    chat
      .command("diff <chat>")
      .description("what a chat changed: a worktree chat's worktree against where it branched (committed and not); otherwise OpenCode's session diff")
      .option("--stat", "only the files and line counts"),
    {
      run: (c, [chatRef]) => c.call(api.worktrees.diff, { chat: chatRef! }),
      human: (diff, _args, options: { stat?: boolean }) => renderDiff(diff, options.stat === true),
    },
  );

  defineRead(
    chat
      .command("apply <chat>")
      .description("bring a worktree chat's changes into the worker's checkout, uncommitted (refused on conflict; nothing is committed)"),
    {
      run: (c, [chatRef]) => c.call(api.worktrees.apply, { chat: chatRef! }),
      human: (result) =>
        result.files.length === 0
          ? style.dim("nothing to apply")
          : [`applied ${result.files.length} file(s), uncommitted:`, ...result.files.map((f) => `  ${f}`)],
    },
  );
}

/** `ocfleet worker worktrees <worker> on|off`: whether the worker's new chats get worktrees by default. */
export function registerWorkerWorktreeCommand(worker: Command): void {
  defineRead(
    worker
      .command("worktrees <worker> <setting>")
      .description("on: new chats on this worker get their own git worktree unless --no-worktree; off: they share its checkout"),
    {
      run: (c, [name, setting]) => {
        if (setting !== "on" && setting !== "off") throw new CliError(`<setting> is on or off, not '${setting}'`, 2);
        return c.call(api.worktrees.setWorkerDefault, { worker: name!, worktree: setting === "on" });
      },
      human: (result) =>
        result.worktreeByDefault
          ? `new chats on ${result.worker} get their own worktree (chat new --no-worktree to share the checkout)`
          : `new chats on ${result.worker} share its checkout (chat new --worktree for a worktree)`,
    },
  );
}
