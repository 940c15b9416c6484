// ocfleet chat …: conversations with workers' OpenCode, streamed live.
import type { Command } from "../commander.js";
import type { FleetConnection } from "../../client/connection.js";
import type { FleetClient } from "../../client/client.js";
import { api, type ChatSummary, type ChatView, type MessageView, type RequestView } from "../../protocol/api/index.js";
import { CliError, formatAge, formatTable, print, printJson, printJsonLine, style } from "../output.js";
import { watchWithDaemon, withDaemon } from "../session.js";
import { describeRequest, TranscriptPrinter } from "../transcript.js";

type JsonOption = { json?: boolean };

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new CliError("reading the message from stdin ('-'), but stdin is a terminal; pipe text in", 2);
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

function renderChats(chats: ChatSummary[]): string {
  if (chats.length === 0) return style.dim("no chats yet; start one with: ocfleet chat new --worker <worker>");
  return formatTable([
    ["ID", "TITLE", "WORKER", "STATE", "", "LAST ACTIVITY"].map(style.dim),
    ...chats.map((c) => [
      c.id,
      c.title.length > 50 ? `${c.title.slice(0, 49)}…` : c.title,
      c.workerRemoved ? `${c.workerName} ${style.dim("(worker removed)")}` : c.workerName,
      c.archived ? style.dim("archived") : c.state === "active" ? c.state : style.dim(c.state),
      [c.busy ? style.cyan("answering") : "", c.pendingRequests > 0 ? style.yellow(`${c.pendingRequests} waiting for you`) : ""].filter(Boolean).join(" "),
      formatAge(c.lastActivityAt),
    ]),
  ]);
}

function renderRequests(requests: RequestView[]): string {
  if (requests.length === 0) return style.dim("nothing is waiting for an answer");
  return requests
    .map((r) => `${style.bold(r.id)}  ${r.chatTitle} ${style.dim(`(${r.chatId} on ${r.workerName}, ${formatAge(r.createdAt)})`)}\n  ${describeRequest(r)}`)
    .join("\n");
}

/** Follows a reply to `replyTo` until it ends; resolves with the final message. */
function followReply(connection: FleetConnection, chatId: string, replyTo: string, printer: TranscriptPrinter | null): Promise<MessageView> {
  return new Promise((resolve, reject) => {
    let messages: MessageView[] = [];
    let stream: MessageView | null = null;
    const subs = [
      connection.subscribe(
        api.chat.messages,
        { chat: chatId },
        {
          onValue: (value) => {
            messages = value;
            printer?.update(messages, stream);
            const outcome = TranscriptPrinter.outcome(messages, replyTo);
            if (outcome) {
              subs.forEach((s) => s.unsubscribe());
              resolve(outcome);
            }
          },
          onError: reject,
        },
      ),
      connection.subscribe(
        api.chat.stream,
        { chat: chatId },
        {
          onValue: (value) => {
            stream = value;
            printer?.update(messages, stream);
          },
          onError: reject,
        },
      ),
      connection.subscribe(api.chat.get, { chat: chatId }, { onValue: (chat) => printer?.notice(chat), onError: reject }),
    ];
  });
}

export function registerChatCommands(program: Command): void {
  const chat = program.command("chat").description("chats with a worker's OpenCode: send, watch, answer its questions");

  chat
    .command("new")
    .description("start a chat on a worker")
    .requiredOption("--worker <worker>", "the worker (name or id)")
    .option("--model <provider/model>", "the model for this chat (see: ocfleet worker models)")
    .option("--title <title>", "a title (default: from the first message)")
    .option("--json", "print JSON")
    .action((options: { worker: string; model?: string; title?: string } & JsonOption) =>
      withDaemon(options, async (connection) => {
        const created = await connection.call(api.chat.create, {
          worker: options.worker,
          ...(options.model ? { model: options.model } : {}),
          ...(options.title ? { title: options.title } : {}),
        });
        if (options.json) printJson(created);
        else print(`${created.id}  ${style.dim(`on ${created.workerName}; send with: ocfleet chat send ${created.id} "…"`)}`);
      }),
    );

  chat
    .command("send <chat> <text>")
    .description("send a message ('-' reads it from stdin); with --wait, stream the reply")
    .option("--model <provider/model>", "use this model for this message")
    .option("--wait", "stream the reply to stdout and exit when it ends (non-zero if it fails)")
    .option("--json", "print JSON")
    .action((chatRef: string, textArg: string, options: { model?: string; wait?: boolean } & JsonOption) =>
      withDaemon(options, async (connection) => {
        const text = textArg === "-" ? await readStdin() : textArg;
        const view = await connection.call(api.chat.get, { chat: chatRef });
        const { messageId } = await connection.call(api.chat.send, { chat: view.id, text, ...(options.model ? { model: options.model } : {}) });
        if (!options.wait) {
          if (options.json) printJson({ chatId: view.id, messageId });
          else print(`sent ${messageId} ${style.dim(`(follow the reply with: ocfleet chat watch ${view.id})`)}`);
          return;
        }
        const printer = options.json
          ? null
          : new TranscriptPrinter({ out: (t) => process.stdout.write(t), aside: (t) => process.stderr.write(t), headers: false, replyTo: messageId });
        const reply = await followReply(connection, view.id, messageId, printer);
        if (options.json) printJson(reply);
        if (reply.status !== "completed") process.exitCode = 1;
      }),
    );

  chat
    .command("watch <chat>")
    .description("follow a chat live: everything so far, then each message and streamed reply (Ctrl-C to stop)")
    .option("--json", "print one JSON line per change")
    .action((chatRef: string, options: JsonOption) =>
      watchWithDaemon(options, (client: FleetClient, status) => {
        const printer = new TranscriptPrinter({ out: (t) => process.stdout.write(t), aside: (t) => process.stdout.write(t), headers: true });
        let messages: MessageView[] = [];
        let stream: MessageView | null = null;
        const onError = (error: Error) => status(`ocfleet: ${error.message}`);
        client.subscribe(
          api.chat.messages,
          { chat: chatRef },
          {
            onValue: (value) => {
              messages = value;
              if (options.json) printJsonLine({ messages });
              else printer.update(messages, stream);
            },
            onError,
          },
        );
        client.subscribe(
          api.chat.stream,
          { chat: chatRef },
          {
            onValue: (value) => {
              stream = value;
              if (options.json) printJsonLine({ stream });
              else printer.update(messages, stream);
            },
            onError,
          },
        );
        client.subscribe(
          api.chat.get,
          { chat: chatRef },
          {
            onValue: (view: ChatView) => (options.json ? printJsonLine({ chat: view }) : printer.notice(view)),
            onError,
          },
        );
      }),
    );

  chat
    .command("show <chat>")
    .description("print the whole transcript, with each reply's model, tokens, cost and time")
    .option("--json", "print JSON")
    .action((chatRef: string, options: JsonOption) =>
      withDaemon(options, async (connection) => {
        const view = await connection.call(api.chat.get, { chat: chatRef });
        const [messages, stream] = await Promise.all([
          connection.call(api.chat.messages, { chat: view.id }),
          connection.call(api.chat.stream, { chat: view.id }),
        ]);
        if (options.json) return printJson({ chat: view, messages, streaming: stream });
        const where = view.workerRemoved ? `was on ${view.workerName}, worker removed` : `on ${view.workerName}, ${view.state}`;
        print(`${style.bold(view.title)} ${style.dim(`(${view.id} ${where}${view.archived ? ", archived" : ""})`)}`);
        const printer = new TranscriptPrinter({
          out: (t) => process.stdout.write(t),
          aside: (t) => process.stdout.write(t),
          headers: true,
          toolOutputLines: 20,
        });
        printer.update(messages, stream);
        if (stream) print(style.dim("\n(still answering; follow it with: ocfleet chat watch " + view.id + ")"));
        printer.notice(view);
        print(style.dim(`total: ${view.usage.tokens.input} in / ${view.usage.tokens.output} out tokens · $${view.usage.cost.toFixed(4)}`));
      }),
    );

  chat
    .command("list")
    .description("list your chats")
    .option("--worker <worker>", "only this worker's chats")
    .option("--all", "include archived chats (and, for admins, everyone's)")
    .option("--json", "print JSON")
    .action((options: { worker?: string; all?: boolean } & JsonOption) =>
      withDaemon(options, async (connection) => {
        const chats = await connection.call(api.chat.list, { ...(options.worker ? { worker: options.worker } : {}), ...(options.all ? { all: true } : {}) });
        if (options.json) printJson(chats);
        else print(renderChats(chats));
      }),
    );

  chat
    .command("rename <chat> <title>")
    .description("rename a chat (its OpenCode session too)")
    .option("--json", "print JSON")
    .action((chatRef: string, title: string, options: JsonOption) =>
      withDaemon(options, async (connection) => {
        const view = await connection.call(api.chat.rename, { chat: chatRef, title });
        if (options.json) printJson(view);
        else print(`renamed ${view.id} to ${view.title}`);
      }),
    );

  chat
    .command("archive <chat>")
    .description("archive a chat (hidden from `chat list`; --undo brings it back)")
    .option("--undo", "unarchive")
    .option("--json", "print JSON")
    .action((chatRef: string, options: { undo?: boolean } & JsonOption) =>
      withDaemon(options, async (connection) => {
        const view = await connection.call(api.chat.archive, { chat: chatRef, archived: !options.undo });
        if (options.json) printJson(view);
        else print(`${view.archived ? "archived" : "unarchived"} ${view.id}`);
      }),
    );

  chat
    .command("abort <chat>")
    .description("stop the reply in progress (what it wrote so far is kept)")
    .option("--json", "print JSON")
    .action((chatRef: string, options: JsonOption) =>
      withDaemon(options, async (connection) => {
        const outcome = await connection.call(api.chat.abort, { chat: chatRef });
        if (options.json) printJson(outcome);
        else print(outcome.aborted ? "stopping the reply" : "the chat is not answering");
      }),
    );

  chat
    .command("pending")
    .description("list permission and question requests waiting for an answer, across workers")
    .option("--json", "print JSON")
    .action((options: JsonOption) =>
      withDaemon(options, async (connection) => {
        const requests = await connection.call(api.chat.pending, {});
        if (options.json) printJson(requests);
        else print(renderRequests(requests));
      }),
    );

  chat
    .command("permit <request> <reply>")
    .description("answer a permission request: once, always, or reject")
    .option("--json", "print JSON")
    .action((request: string, reply: string, options: JsonOption) =>
      withDaemon(options, async (connection) => {
        if (reply !== "once" && reply !== "always" && reply !== "reject") throw new CliError(`<reply> is once, always or reject, not '${reply}'`, 2);
        const view = await connection.call(api.chat.permit, { request, reply });
        if (options.json) printJson(view);
        else print(`${reply === "reject" ? "rejected" : `allowed (${reply})`}: ${view.permission?.name ?? "request"} in ${view.chatTitle}`);
      }),
    );

  chat
    .command("answer <request> [answers...]")
    .description(
      "answer a question request: one answer per question (an option's label or number, or your own text; commas separate choices of a multiple-choice question)",
    )
    .option("--reject", "dismiss the question instead")
    .option("--json", "print JSON")
    .action((request: string, answers: string[], options: { reject?: boolean } & JsonOption) =>
      withDaemon(options, async (connection) => {
        if (!options.reject && answers.length === 0) throw new CliError("give an answer per question, or --reject", 2);
        const view = await connection.call(
          api.chat.answer,
          options.reject
            ? { request, reject: true }
            : {
                request,
                answers: answers.map((a) =>
                  a
                    .split(",")
                    .map((s) => s.trim())
                    .filter(Boolean),
                ),
              },
        );
        if (options.json) printJson(view);
        else print(options.reject ? "dismissed the question" : `answered: ${JSON.stringify(view.answer)}`);
      }),
    );
}
