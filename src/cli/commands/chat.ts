// ocfleet chat …: conversations with workers' OpenCode, streamed live.
import type { Command } from "../commander.js";
import type { FleetConnection } from "../../client/connection.js";
import { api, type ChatSummary, type ChatView, type MessageView, type RequestView } from "../../protocol/api/index.js";
import { CliError, formatAge, formatTable, formatUsd, hint, printJsonLine, style } from "../output.js";
import { turnActivity } from "../../terminal/format.js";
import { defineRead, printResult, runAction } from "../command.js";
import { openDaemonConnection, type CommandOptions } from "../session.js";
import { describeRequest, TranscriptPrinter } from "../transcript.js";
import { watchLive, watchQuery } from "../watch.js";
import { startProgress } from "../progress.js";
import { colourPatch, registerReviewCommands } from "./review.js";
import { chooseModel, chooseWorker } from "../config.js";
import { registerChatSearchCommand } from "./search.js";
import { sanitizeInline } from "../../terminal/sanitize.js";

/**
 * chat.send, which waits for a worker that is still starting: on a terminal, say so while it does
 * (the daemon waits; the worker's state says why the reply has not begun).
 */
export async function sendSayingWhy(
  connection: FleetConnection,
  chat: ChatView,
  args: { chat: string; text: string; model?: string },
  options: CommandOptions,
) {
  const progress = startProgress(!options.json);
  try {
    if (!chat.workerRemoved) {
      const worker = await connection.call(api.workers.get, { worker: chat.workerId }).catch(() => null);
      if (worker && (worker.runState === "starting" || worker.runState === "offline")) progress.update(`waiting for worker ${worker.name} to start…`);
    }
    const sent = await connection.call(api.chat.send, args);
    for (const warning of sent.budgetWarnings ?? []) hint(style.yellow(`warning: ${sanitizeInline(warning)}`));
    return sent;
  } finally {
    progress.stop();
  }
}

/** `chat send --wait --notify`: the terminal's bell (on stderr, so stdout stays the reply), and the desktop's notifier where there is one. */
async function notifyEnd(what: string, worker: string): Promise<void> {
  process.stderr.write("\x07");
  const { findDesktopNotifier } = await import("../../platform/desktop-notify.js");
  const notifier = findDesktopNotifier();
  if (!notifier) return hint("(no desktop notifier here: install notify-send for desktop notifications; the bell rang)");
  await notifier
    .show("ocfleet", `${what} (worker ${sanitizeInline(worker)})`)
    .catch((err: unknown) => hint(`could not show a desktop notification: ${String(err)}`));
}

export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new CliError("reading the message from stdin ('-'), but stdin is a terminal; pipe text in", 2);
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

/** Waiting for the user in yellow (they have something to do), answering in cyan. */
function activityCell(c: ChatSummary): string {
  const activity = turnActivity(c);
  if (!activity) return "";
  return c.pendingRequests > 0 ? style.yellow(activity) : style.cyan(activity);
}

/** A worktree chat's branch (dim once its worktree is gone); nothing for a chat in the worker's checkout. */
function branchOf(c: ChatSummary): string {
  if (!c.worktree) return "";
  return c.worktree.removed ? style.dim(`${c.worktree.branch} (worktree removed)`) : c.worktree.branch;
}

function renderChats(chats: ChatSummary[]): string {
  if (chats.length === 0) return style.dim("no chats yet; start one with: ocfleet chat new --worker <worker>");
  const branches = chats.some((c) => c.worktree);
  return formatTable([
    ["ID", "TITLE", "WORKER", ...(branches ? ["BRANCH"] : []), "STATE", "", "COST", "LAST ACTIVITY"].map(style.dim),
    ...chats.map((c) => [
      c.id,
      c.title.length > 50 ? `${c.title.slice(0, 49)}…` : c.title,
      c.workerRemoved ? `${c.workerName} ${style.dim(c.removedMachine ? `(machine ${c.removedMachine} removed)` : "(worker removed)")}` : c.workerName,
      ...(branches ? [branchOf(c)] : []),
      c.archived ? style.dim("archived") : c.state === "active" ? c.state : style.dim(c.state),
      activityCell(c),
      formatUsd(c.cost),
      formatAge(c.lastActivityAt),
    ]),
  ]);
}

/** What a permission would do, beyond its one line: an edit's diff; where a command runs, and on which worker and machine. */
function permissionDetail(r: RequestView): string[] {
  const p = r.permission;
  if (!p) return [];
  const lines: string[] = [];
  if (p.diff)
    lines.push(
      ...colourPatch(p.diff.replace(/\n$/, ""))
        .split("\n")
        .map((line) => `    ${line}`),
    );
  if (p.name === "bash" || !p.diff) {
    const where = [p.directory ? `in ${p.directory}` : "", `on worker ${r.workerName}`, r.machineName ? `(machine ${r.machineName})` : ""];
    lines.push(`  ${style.dim(`runs ${where.filter(Boolean).join(" ")}`)}`);
  }
  return lines;
}

function renderRequests(requests: RequestView[]): string {
  if (requests.length === 0) return style.dim("nothing is waiting for an answer");
  return requests
    .map((r) =>
      [
        `${style.bold(r.id)}  ${r.chatTitle} ${style.dim(`(${r.chatId} on ${r.workerName}, ${formatAge(r.createdAt)})`)}`,
        `  ${describeRequest(r)}`,
        ...permissionDetail(r),
      ].join("\n"),
    )
    .join("\n");
}

/** Follows a reply to `replyTo` until it ends; resolves with the final message, rejects if the daemon goes away. */
export function followReply(connection: FleetConnection, chatId: string, replyTo: string, printer: TranscriptPrinter | null): Promise<MessageView> {
  return new Promise((resolve, reject) => {
    let messages: MessageView[] = [];
    let stream: MessageView | null = null;
    const changed = () => {
      printer?.update(messages, stream);
      // A reply that ended but is not saved yet (the daemon's disk is full) ends here too, from the stream.
      const unsaved = stream?.replyTo === replyTo && stream.status !== "streaming" ? stream : null;
      const outcome = TranscriptPrinter.outcome(messages, replyTo) ?? unsaved;
      if (!outcome) return;
      for (const sub of subs) sub.unsubscribe();
      resolve(outcome);
    };
    const subs = [
      // The reply is among the newest messages: a chat thousands long is not read whole at every change.
      connection.subscribe(api.chat.messages, { chat: chatId, last: 50 }, { onValue: (value) => ((messages = value), changed()), onError: reject }),
      connection.subscribe(api.chat.stream, { chat: chatId }, { onValue: (value) => ((stream = value), changed()), onError: reject }),
      connection.subscribe(api.chat.get, { chat: chatId }, { onValue: (chat) => printer?.notice(chat), onError: reject }),
    ];
  });
}

/** Checks choices given by number against the question's options: a number that is no option is a mistake, not free text. */
function checkChoices(request: RequestView | undefined, answers: string[][]): void {
  request?.questions?.forEach((q, i) => {
    for (const choice of answers[i] ?? []) {
      if (!/^\d+$/.test(choice) || q.options[Number(choice) - 1] || q.options.some((o) => o.label === choice)) continue;
      const valid = q.options.length === 1 ? "1" : `1 to ${q.options.length}`;
      throw new CliError(`<answers>: question ${i + 1} has no option ${choice}; give ${valid}, or your own text with --custom "…"`, 2);
    }
  });
}

export function registerChatCommands(program: Command): void {
  const chat = program.command("chat").description("chats with a worker's OpenCode: send, watch, answer its questions");
  registerChatSearchCommand(chat);

  defineRead(
    chat
      .command("new")
      .description("start a chat on a worker; prints its id")
      .option("--worker <worker>", "the worker (name or id; default: `ocfleet config get worker`, or your only worker)")
      .option("--model <provider/model>", "the model for this chat (see: ocfleet worker models; default: `ocfleet config get model`)")
      .option("--title <title>", "a title (default: from the first message)")
      .option("--worktree", "work in a new git worktree of the worker's repository, on its own branch")
      .option("--no-worktree", "work in the worker's checkout even if its chats get worktrees by default")
      .option("--branch <name>", "the worktree's branch (default: ocfleet/<title>-<4 chars>)")
      .option("--from <ref>", "branch the worktree from this commit or branch (default: HEAD)"),
    {
      check: (_args, options: { worktree?: boolean; branch?: string; from?: string }) => {
        if (!options.worktree && (options.branch || options.from)) throw new CliError(`${options.branch ? "--branch" : "--from"} needs --worktree`, 2);
      },
      run: async (c, _args, options: { worker?: string; model?: string; title?: string; worktree?: boolean; branch?: string; from?: string }) => {
        const model = chooseModel(options.model);
        const common = {
          worker: await chooseWorker(c, options.worker),
          ...(model ? { model } : {}),
          ...(options.title ? { title: options.title } : {}),
        };
        if (options.worktree === false) return c.call(api.chat.create, common);
        // Neither flag: the worker's own default decides (ocfleet worker worktrees <worker> on|off).
        return c.call(api.worktrees.createChat, {
          ...common,
          ...(options.branch ? { branch: options.branch } : {}),
          ...(options.from ? { from: options.from } : {}),
          ...(options.worktree === undefined ? { onlyIfWorkerDefault: true } : {}),
        });
      },
      // Only the id on stdout, so C=$(ocfleet chat new …) captures the id; the hint goes to stderr.
      human: (created) => {
        if (created.worktree) hint(`in a worktree on branch ${created.worktree.branch}; review with: ocfleet chat diff ${created.id}`);
        hint(`on ${created.workerName}; send with: ocfleet chat send ${created.id} "…"`);
        return created.id;
      },
    },
  );

  type SendOptions = { model?: string; wait?: boolean; notify?: boolean };
  defineRead(
    chat
      .command("send <chat> <text...>")
      .description("send a message (several words need no quotes; '-' reads it from stdin); with --wait, stream the reply")
      .option("--model <provider/model>", "use this model for this message")
      .option("--wait", "stream the reply to stdout and exit when it ends (non-zero if it fails)")
      .option("--notify", "with --wait: ring the bell and show a desktop notification when the reply ends"),
    {
      fields: { text: "<text>" },
      run: async (connection, params, options: SendOptions & CommandOptions) => {
        // commander hands a variadic argument over as one array.
        const [chatRef, words] = params as unknown as [string, string[]];
        const text = words.length === 1 && words[0] === "-" ? await readStdin() : words.join(" ");
        const view = await connection.call(api.chat.get, { chat: chatRef! });
        const { messageId } = await sendSayingWhy(connection, view, { chat: view.id, text, ...(options.model ? { model: options.model } : {}) }, options);
        if (!options.wait) return { sent: { chatId: view.id, messageId }, reply: undefined };
        const printer = options.json
          ? null
          : new TranscriptPrinter({ out: (t) => process.stdout.write(t), aside: (t) => process.stderr.write(t), headers: false, replyTo: messageId });
        const reply = await followReply(connection, view.id, messageId, printer);
        if (reply.status !== "completed") process.exitCode = 1;
        if (options.notify) await notifyEnd(reply.status === "completed" ? "the reply is done" : `the reply ended ${reply.status}`, view.workerName);
        return { sent: undefined, reply };
      },
      json: (result) => result.sent ?? result.reply,
      // A reply was printed as it streamed.
      human: ({ sent }) => (sent ? `sent ${sent.messageId} ${style.dim(`(follow the reply with: ocfleet chat watch ${sent.chatId})`)}` : undefined),
    },
  );

  chat
    .command("watch <chat>")
    .description("follow a chat live: everything so far, then each message and streamed reply (Ctrl-C to stop)")
    .option("--json", "print one JSON line per change")
    .action((chatRef: string, _options: CommandOptions, command: Command) => {
      const options = command.optsWithGlobals<CommandOptions>();
      return runAction(command, options, undefined, () =>
        watchLive(options, (live) => {
          const printer = new TranscriptPrinter({ out: (t) => process.stdout.write(t), aside: (t) => process.stdout.write(t), headers: true });
          let messages: MessageView[] = [];
          let stream: MessageView | null = null;
          live.subscribe(api.chat.messages, { chat: chatRef }, (value) => {
            messages = value;
            if (options.json) printJsonLine({ messages });
            else printer.update(messages, stream);
          });
          live.subscribe(api.chat.stream, { chat: chatRef }, (value) => {
            stream = value;
            if (options.json) printJsonLine({ stream });
            else printer.update(messages, stream);
          });
          live.subscribe(api.chat.get, { chat: chatRef }, (view: ChatView) => (options.json ? printJsonLine({ chat: view }) : printer.notice(view)));
        }),
      );
    });

  defineRead(chat.command("show <chat>").description("print the whole transcript, with each reply's model, tokens, cost and time"), {
    run: async (c, [chatRef]) => {
      const view = await c.call(api.chat.get, { chat: chatRef! });
      const [messages, streaming] = await Promise.all([c.call(api.chat.messages, { chat: view.id }), c.call(api.chat.stream, { chat: view.id })]);
      return { chat: view, messages, streaming };
    },
    human: ({ chat: view, messages, streaming }) => {
      const lines: string[] = [];
      const write = (t: string) => lines.push(t);
      const removed = view.removedMachine ? `machine ${view.removedMachine} removed` : "worker removed";
      const where = view.workerRemoved ? `was on ${view.workerName}, ${removed}` : `on ${view.workerName}, ${view.state}`;
      const branch = view.worktree ? `, branch ${view.worktree.branch}${view.worktree.removed ? " (worktree removed)" : ""}` : "";
      write(`${style.bold(view.title)} ${style.dim(`(${view.id} ${where}${branch}${view.archived ? ", archived" : ""})`)}\n`);
      const printer = new TranscriptPrinter({ out: write, aside: write, headers: true, toolOutputLines: 20 });
      printer.update(messages, streaming);
      if (streaming) write(style.dim(`\n(still answering; follow it with: ocfleet chat watch ${view.id})\n`));
      printer.notice(view);
      write(style.dim(`total: ${view.usage.tokens.input} in / ${view.usage.tokens.output} out tokens · $${view.usage.cost.toFixed(4)}`));
      return lines.join("");
    },
  });

  defineRead(
    chat
      .command("list")
      .description("list your chats")
      .option("--worker <worker>", "only this worker's chats")
      .option("--all", "include archived chats (and, for admins, everyone's)"),
    {
      run: (c, _args, options: { worker?: string; all?: boolean }) =>
        c.call(api.chat.list, { ...(options.worker ? { worker: options.worker } : {}), ...(options.all ? { all: true } : {}) }),
      human: (chats) => renderChats(chats),
    },
  );

  defineRead(chat.command("rename <chat> <title>").description("rename a chat (its OpenCode session too)"), {
    run: (c, [chatRef, title]) => c.call(api.chat.rename, { chat: chatRef!, title: title! }),
    human: (view) => `renamed ${view.id} to ${view.title}`,
  });

  type ArchiveOptions = { undo?: boolean; removeWorktree?: boolean; force?: boolean };
  defineRead(
    chat
      .command("archive <chat>")
      .description("archive a chat (hidden from `chat list`; --undo brings it back)")
      .option("--undo", "unarchive")
      .option("--remove-worktree", "also remove a worktree chat's worktree (its branch stays); refused if it holds uncommitted changes")
      .option("--force", "with --remove-worktree: remove it even with uncommitted changes (they are lost)"),
    {
      check: (_args, options: ArchiveOptions) => {
        if (options.force && !options.removeWorktree) throw new CliError("--force goes with --remove-worktree", 2);
        if (options.undo && options.removeWorktree) throw new CliError("--remove-worktree cannot go with --undo", 2);
      },
      run: async (c, [chatRef], options: ArchiveOptions) => {
        // The worktree goes first: if it is refused (uncommitted changes), the chat stays as it was.
        if (options.removeWorktree) await c.call(api.worktrees.removeWorktree, { chat: chatRef!, ...(options.force ? { force: true } : {}) });
        return c.call(api.chat.archive, { chat: chatRef!, archived: !options.undo });
      },
      human: (view) =>
        `${view.archived ? "archived" : "unarchived"} ${view.id}${view.worktree?.removed ? ` ${style.dim("(worktree removed; branch " + view.worktree.branch + " kept)")}` : ""}`,
    },
  );

  registerReviewCommands(chat);

  defineRead(chat.command("abort <chat>").description("stop the reply in progress (what it wrote so far is kept)"), {
    run: (c, [chatRef]) => c.call(api.chat.abort, { chat: chatRef! }),
    human: (outcome) => (outcome.aborted ? "stopping the reply" : "the chat is not answering"),
  });

  chat
    .command("pending")
    .description("list permission and question requests waiting for an answer, across workers")
    .option("--watch", "a live inbox: redraws as requests arrive and are answered (Ctrl-C to stop)")
    .option("--json", "print JSON (with --watch: one line per change)")
    .action((...params: unknown[]) => {
      const command = params[params.length - 1] as Command;
      const options = command.optsWithGlobals<CommandOptions & { watch?: boolean }>();
      if (options.watch)
        return runAction(command, options, undefined, () =>
          watchQuery(options, { query: api.chat.pending, args: {}, label: "requests waiting for you", render: renderRequests }),
        );
      return runAction(command, options, undefined, async () => {
        const connection = await openDaemonConnection(options);
        try {
          printResult(await connection.call(api.chat.pending, {}), options, renderRequests);
        } finally {
          connection.close();
        }
      });
    });

  defineRead(chat.command("permit <request> <reply>").description("answer a permission request: once, always, or reject"), {
    run: (c, [request, reply]) => {
      if (reply !== "once" && reply !== "always" && reply !== "reject") throw new CliError(`<reply> is once, always or reject, not '${reply}'`, 2);
      return c.call(api.chat.permit, { request: request!, reply });
    },
    human: (view) => `${view.answer === "reject" ? "rejected" : `allowed (${view.answer})`}: ${view.permission?.name ?? "request"} in ${view.chatTitle}`,
  });

  defineRead(
    chat
      .command("answer <request> [answers...]")
      .description(
        "answer a question request: one answer per question (an option's label or number; commas separate choices of a multiple-choice question), or your own text with --custom",
      )
      .option("--custom <text>", "your own words instead of an option (for a question that takes them); repeat for several questions", collect, [])
      .option("--reject", "dismiss the question instead"),
    {
      fields: { answers: "<answers>" },
      check: (params, options: { reject?: boolean; custom: string[] }) => {
        const given = (params as unknown as [string, string[]])[1];
        if (!options.reject && given.length === 0 && options.custom.length === 0) throw new CliError("give an answer per question, or --reject", 2);
      },
      run: async (connection, params, options: { reject?: boolean; custom: string[] }) => {
        // commander hands a variadic argument over as one array.
        const [request, given] = params as unknown as [string, string[]];
        if (options.reject) return connection.call(api.chat.answer, { request, reject: true });
        const choices = given.map((a) =>
          a
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean),
        );
        const pending = await connection.call(api.chat.pending, {});
        checkChoices(
          pending.find((r) => r.id === request),
          choices,
        );
        return connection.call(api.chat.answer, { request, answers: [...choices, ...options.custom.map((text) => [text])] });
      },
      human: (view, _args, options) => (options.reject ? "dismissed the question" : `answered: ${JSON.stringify(view.answer)}`),
    },
  );
}

function collect(value: string, all: string[]): string[] {
  return [...all, value];
}
