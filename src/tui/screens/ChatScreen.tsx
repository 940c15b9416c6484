// A chat: finished blocks of the transcript go to <Static> (printed once, into the terminal's
// scrollback) and only the reply in progress, the prompt and the composer re-render. The live
// region is cut to fit the terminal, because Ink redraws everything once output outgrows it.
import { Box, Static, Text, useStdout } from "ink";
import { useMemo, useRef, useState } from "react";
import { api } from "../../protocol/api/index.js";
import { Composer, composerHeight, EMPTY_EDIT, type Edit } from "../components/Composer.js";
import { Lines } from "../components/Lines.js";
import { RequestPrompt } from "../components/RequestPrompt.js";
import { Spinner } from "../components/Spinner.js";
import { useClient, useQuery } from "../hooks/client.js";
import { PRIORITY, useKeys } from "../keys/dispatcher.js";
import { isCommand } from "../keys/keymap.js";
import { useNavigation } from "../navigation.js";
import { splitTranscript, type Block, type RenderOptions } from "../render/blocks.js";
import { cutLine } from "../render/lines.js";

/** Rows kept free below the live text: the status bar, a notice line, spacing. */
const RESERVED_ROWS = 3;

export function ChatScreen({ chatId, width, rows }: { chatId: string; width: number; rows: number }) {
  const nav = useNavigation();
  const client = useClient();
  const { stdout } = useStdout();
  const chat = useQuery(api.chat.get, { chat: chatId });
  const messages = useQuery(api.chat.messages, { chat: chatId });
  const stream = useQuery(api.chat.stream, { chat: chatId });
  const [options, setOptions] = useState<RenderOptions>({ showReasoning: false, showToolOutput: true });
  const [edit, setEdit] = useState<Edit>(EMPTY_EDIT);
  // Static only ever appends. A new generation (after a toggle) clears the screen and prints afresh.
  const [generation, setGeneration] = useState(0);
  const committed = useRef<{ generation: number; ids: Set<string>; items: Block[] }>({ generation: 0, ids: new Set(), items: [] });

  const c = chat.data;
  const { all, finalCount } = useMemo(() => splitTranscript(messages.data ?? [], stream.data ?? null, options), [messages.data, stream.data, options]);

  if (committed.current.generation !== generation) committed.current = { generation, ids: new Set(), items: [] };
  const header: Block = useMemo(
    () => ({
      id: `header:${chatId}:${generation}`,
      final: true,
      lines: (w) => [
        cutLine(`── ${c?.title ?? "chat"} · ${c?.workerName ?? ""} on ${c?.machineName ?? ""} · ${chatId} ──`, w, { color: "cyan", bold: true }),
        [],
      ],
    }),
    [chatId, generation, c !== undefined],
  );
  if (c && messages.data && committed.current.items.length === 0) {
    committed.current.items.push(header);
    committed.current.ids.add(header.id);
  }
  if (committed.current.items.length > 0) {
    for (const block of all.slice(0, finalCount)) {
      if (committed.current.ids.has(block.id)) continue;
      committed.current.ids.add(block.id);
      committed.current.items.push(block);
    }
  }
  const live = all.slice(finalCount).filter((b) => !committed.current.ids.has(b.id));

  const refresh = () => {
    stdout.write("\x1b[2J\x1b[3J\x1b[H");
    setGeneration((g) => g + 1);
  };

  const request = c?.requests[0] ?? null;
  const model = nav.modelFor(chatId) ?? c?.model ?? null;
  const send = (text: string) =>
    client
      .call(api.chat.send, { chat: chatId, text, ...(nav.modelFor(chatId) ? { model: nav.modelFor(chatId)! } : {}) })
      .catch((err: Error) => nav.notify(err.message, true));

  useKeys((event) => {
    if (isCommand("abort", event)) {
      if (c?.busy)
        client.call(api.chat.abort, { chat: chatId }).then(
          () => nav.notify("stopping the reply"),
          (err: Error) => nav.notify(err.message, true),
        );
      return true;
    }
    if (isCommand("back", event)) nav.go({ name: "fleet" });
    else if (isCommand("pickModel", event) && c) nav.open({ kind: "pickModel", chatId, worker: c.workerId });
    else if (isCommand("toggleReasoning", event)) {
      setOptions((o) => ({ ...o, showReasoning: !o.showReasoning }));
      refresh();
    } else if (isCommand("toggleToolOutput", event)) {
      setOptions((o) => ({ ...o, showToolOutput: !o.showToolOutput }));
      refresh();
    } else if (isCommand("help", event) && edit.value === "") nav.open({ kind: "help" });
    else return false;
    return true;
  }, PRIORITY.screen);

  // What the live region may use: the terminal minus the composer, the prompt and the status bar.
  const promptRows = request ? (request.kind === "permission" ? 5 : 4 + (request.questions?.[0]?.options.length ?? 0)) : 0;
  const extraRows = (c?.retry ? 1 : 0) + (c?.busy && !stream.data ? 1 : 0);
  const available = Math.max(3, rows - RESERVED_ROWS - composerHeight(edit) - promptRows - extraRows);
  const liveLines = live.flatMap((b) => b.lines(width));
  const shown =
    liveLines.length > available
      ? [
          cutLine(`… ${liveLines.length - available + 1} more lines above (they scroll in when the paragraph ends)`, width, { dim: true }),
          ...liveLines.slice(-(available - 1)),
        ]
      : liveLines;

  const blocked = !c ? "loading…" : c.archived ? "this chat is archived" : request ? "answer the request above first" : null;
  return (
    <Box flexDirection="column" width={width}>
      <Static key={generation} items={[...committed.current.items]}>
        {(block) => (
          <Box key={block.id} flexDirection="column" width={width}>
            <Lines lines={block.lines(width)} />
          </Box>
        )}
      </Static>
      <Lines lines={shown} />
      {c?.busy && !stream.data ? (
        <Text color="cyan">
          <Spinner /> waiting for the model…
        </Text>
      ) : null}
      {c?.retry ? (
        <Text color="yellow" wrap="truncate-end">
          ↻ the provider failed; OpenCode retries (attempt {c.retry.attempt}): {c.retry.message}
        </Text>
      ) : null}
      {request ? (
        <RequestPrompt
          request={request}
          width={width}
          active={!nav.dialog}
          onPermit={(reply) =>
            client.call(api.chat.permit, { request: request.id, reply }).then(
              () => nav.notify(reply === "reject" ? "rejected" : `allowed (${reply})`),
              (err: Error) => nav.notify(err.message, true),
            )
          }
          onAnswer={(answers) =>
            client.call(api.chat.answer, answers ? { request: request.id, answers } : { request: request.id, reject: true }).then(
              () => nav.notify(answers ? "answered" : "dismissed"),
              (err: Error) => nav.notify(err.message, true),
            )
          }
        />
      ) : null}
      <Composer edit={edit} onEdit={setEdit} onSend={(text) => void send(text)} blockedReason={blocked} active={!nav.dialog && !request} width={width} />
      <Text dimColor wrap="truncate-end">
        {c?.busy ? "Esc stops the reply · " : ""}Tab fleet · Ctrl+P model{model ? ` (${model})` : ""} · Ctrl+R reasoning {options.showReasoning ? "on" : "off"}{" "}
        · Ctrl+T tool output {options.showToolOutput ? "on" : "off"}
      </Text>
    </Box>
  );
}
