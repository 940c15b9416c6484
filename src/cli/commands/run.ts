// ocfleet run "…" --worker W: one prompt as a new chat, the reply streamed, and the turn's outcome as
// the exit code (like `opencode run`, on any worker of the fleet).
import type { Command } from "../commander.js";
import { api } from "../../protocol/api/index.js";
import { defineRead } from "../command.js";
import { chooseModel, chooseWorker } from "../config.js";
import { hint } from "../output.js";
import type { CommandOptions } from "../session.js";
import { TranscriptPrinter } from "../transcript.js";
import { followReply, readStdin, sendSayingWhy } from "./chat.js";

type RunOptions = { worker?: string; model?: string; title?: string; worktree?: boolean; branch?: string };

export function registerRunCommand(program: Command): void {
  defineRead(
    program
      .command("run <prompt...>")
      .description("send one prompt as a new chat and stream the reply; exits non-zero if the turn fails ('-' reads the prompt from stdin)")
      .option("--worker <worker>", "the worker (name or id; default: `ocfleet config get worker`, or your only worker)")
      .option("--model <provider/model>", "the model (see: ocfleet worker models; default: `ocfleet config get model`)")
      .option("--title <title>", "the chat's title (default: from the prompt)")
      .option("--worktree", "run in a new git worktree of the worker's repository, on its own branch")
      .option("--no-worktree", "run in the worker's checkout even if its chats get worktrees by default")
      .option("--branch <name>", "with --worktree: the branch (default: ocfleet/<title>-<4 chars>)"),
    {
      fields: { text: "<prompt>" },
      run: async (connection, params, options: RunOptions & CommandOptions) => {
        const words = params[0] as unknown as string[];
        const text = words.length === 1 && words[0] === "-" ? await readStdin() : words.join(" ");
        const model = chooseModel(options.model);
        const common = {
          worker: await chooseWorker(connection, options.worker),
          ...(model ? { model } : {}),
          ...(options.title ? { title: options.title } : {}),
        };
        const chat =
          options.worktree === false
            ? await connection.call(api.chat.create, common)
            : await connection.call(api.worktrees.createChat, {
                ...common,
                ...(options.branch ? { branch: options.branch } : {}),
                ...(options.worktree === undefined ? { onlyIfWorkerDefault: true } : {}),
              });
        if (!options.json) hint(`chat ${chat.id} on ${chat.workerName}${chat.worktree ? `, branch ${chat.worktree.branch}` : ""}`);
        const { messageId } = await sendSayingWhy(connection, chat, { chat: chat.id, text }, options);
        const printer = options.json
          ? null
          : new TranscriptPrinter({ out: (t) => process.stdout.write(t), aside: (t) => process.stderr.write(t), headers: false, replyTo: messageId });
        const reply = await followReply(connection, chat.id, messageId, printer);
        if (reply.status !== "completed") process.exitCode = 1;
        return { chatId: chat.id, reply };
      },
      // The reply was printed as it streamed.
      human: () => undefined,
    },
  );
}
