// A chat: its transcript in a window the user scrolls (PgUp/PgDn), the reply in progress at the
// bottom, a pending request, and the composer. The app owns the (alternate) screen, so nothing is
// printed outside this frame and only the visible rows of the transcript are drawn.
import { Box, Text } from "ink";
import { tint } from "../theme.js";
import { useMemo, useRef, useState } from "react";
import { api } from "../../protocol/api/index.js";
import { sanitizeInline } from "../../terminal/sanitize.js";
import { Composer, composerHeight, EMPTY_EDIT, type Edit } from "../components/Composer.js";
import { Lines } from "../components/Lines.js";
import { RequestPrompt, requestPromptHeight } from "../components/RequestPrompt.js";
import { worktreeLabel } from "../components/Sidebar.js";
import { Spinner } from "../components/Spinner.js";
import { useCall } from "../hooks/call.js";
import { useQuery } from "../hooks/client.js";
import { CHAT_SCREEN_MESSAGES, useRecentMessages } from "../hooks/messages.js";
import { PRIORITY, useKeys } from "../keys/dispatcher.js";
import { isCommand } from "../keys/keymap.js";
import { useNavigation } from "../navigation.js";
import { type Block, type RenderOptions, splitTranscript } from "../render/blocks.js";
import { cutLine } from "../render/lines.js";
import { LineCache, scrollToBlock, transcriptWindow } from "../render/window.js";
import { useHighlighterReady } from "../hooks/highlighter.js";
import { WHEEL_ROWS } from "./OutputScreen.js";

/** A message a search found: scrolled to the top of the transcript and drawn inverted until the first scroll or key. */
type Target = { messageId: string; partId: string };

/** The blocks of the part a search found: its own block, or its paragraphs (`id:0`, `id:1`…). */
const isTarget = (target: Target) => {
  const id = `${target.messageId}:${target.partId}`;
  return (block: Block) => block.id === id || block.id.startsWith(`${id}:`);
};

export function ChatScreen({ chatId, at, width, rows }: { chatId: string; at?: Target; width: number; rows: number }) {
  const nav = useNavigation();
  const call = useCall();
  const chat = useQuery(api.chat.get, { chat: chatId });
  // Opened at a search hit, the whole chat: the hit may be older than the newest messages.
  const messages = useRecentMessages(chatId, at ? null : CHAT_SCREEN_MESSAGES);
  const stream = useQuery(api.chat.stream, { chat: chatId });
  const [options, setOptions] = useState<RenderOptions>({ showReasoning: false, showToolOutput: true });
  const [edit, setEdit] = useState<Edit>(() => nav.drafts.get(chatId) ?? EMPTY_EDIT);
  const editDraft = (next: Edit) => {
    setEdit(next);
    if (next.value === "") nav.drafts.delete(chatId);
    else nav.drafts.set(chatId, next);
  };
  /** Rows scrolled up from the end of the transcript; 0 follows the reply as it streams. */
  const [scroll, setScroll] = useState(0);
  const cache = useRef(new LineCache());
  /** The search hit still to scroll to (once the messages are here), then still marked. */
  const [target, setTarget] = useState<{ at: Target } | null>(at ? { at } : null);
  useHighlighterReady();

  const c = chat.data;
  const { all } = useMemo(
    () => splitTranscript(messages.data ?? [], stream.data ?? null, options, messages.earlier ? chatId : undefined),
    [messages.data, messages.earlier, stream.data, options, chatId],
  );
  const request = c?.requests[0] ?? null;
  const model = nav.modelFor(chatId) ?? c?.model ?? null;

  // What the transcript may use: the screen minus the header, the composer, a prompt and the hint line.
  const extraRows = (c?.retry ? 1 : 0) + (c?.busy && !stream.data ? 1 : 0);
  const shared = rows - 2 - composerHeight(edit) - extraRows;
  const height = Math.max(3, shared - (request ? requestPromptHeight(request, shared, width) : 0));
  const page = Math.max(1, height - 2);
  const optionsKey = `${options.showReasoning}|${options.showToolOutput}`;
  const linesOf = (block: Block) => cache.current.linesOf(block, width, optionsKey);
  // While a search hit is marked, the view stays anchored at it (the rows around the transcript
  // may still change as the chat loads). Scrolled up, the last row says what is below.
  const fits = (target && messages.data ? scrollToBlock(all, height, isTarget(target.at), linesOf) : null) === 0;
  const anchored = target && messages.data ? (fits ? 0 : scrollToBlock(all, height - 1, isTarget(target.at), linesOf)) : null;
  const marked = anchored !== null && target ? isTarget(target.at) : null;
  const draw = (block: Block) =>
    marked?.(block)
      ? linesOf(block).map((line) => (line.length === 0 ? [{ text: " ", inverse: true }] : line.map((s) => ({ ...s, inverse: true }))))
      : linesOf(block);
  const wanted = anchored ?? scroll;
  const whole = transcriptWindow(all, height, wanted, draw);
  const view = whole.below > 0 ? transcriptWindow(all, height - 1, wanted, draw) : whole;
  const shown = view.below > 0 ? [...view.lines, cutLine(`↓ ${view.below} more lines below · PgDn`, width, { dim: true })] : view.lines;

  const send = (text: string) => {
    setScroll(0);
    void call(api.chat.send, { chat: chatId, text, ...(nav.modelFor(chatId) ? { model: nav.modelFor(chatId)! } : {}) });
  };

  /** The last tool call on screen (else the chat's last), for the pager. */
  const toolOnScreen = () =>
    [...view.owners]
      .reverse()
      .map((i) => all[i]!.tool)
      .find(Boolean) ?? [...all].reverse().find((b) => b.tool)?.tool;

  // Any key ends the mark of a search hit, and scrolling goes on from there (the composer sees
  // typing first, so listen before it).
  useKeys(
    () => {
      setScroll(anchored ?? 0);
      setTarget(null);
      return false;
    },
    PRIORITY.composer + 1,
    target !== null,
  );

  useKeys((event) => {
    if (isCommand("abort", event)) {
      if (c?.busy) void call(api.chat.abort, { chat: chatId }, "stopping the reply");
      return true;
    }
    if (isCommand("back", event)) nav.go({ name: "fleet" });
    else if (isCommand("pageUp", event)) setScroll((s) => s + page);
    else if (isCommand("pageDown", event)) setScroll((s) => Math.max(0, Math.min(s, view.below) - page));
    else if (isCommand("wheelUp", event)) setScroll((s) => s + WHEEL_ROWS);
    else if (isCommand("wheelDown", event)) setScroll((s) => Math.max(0, Math.min(s, view.below) - WHEEL_ROWS));
    else if (isCommand("toolPager", event)) {
      const tool = toolOnScreen();
      if (tool) nav.go({ name: "output", chatId, ...tool });
      else nav.notify("no tool call in this chat yet", true);
    } else if (isCommand("pickModel", event) && c) nav.open({ kind: "pickModel", chatId, worker: c.workerId });
    else if (isCommand("chatDiff", event)) nav.go({ name: "diff", chatId });
    else if (isCommand("toggleReasoning", event)) setOptions((o) => ({ ...o, showReasoning: !o.showReasoning }));
    else if (isCommand("toggleToolOutput", event)) setOptions((o) => ({ ...o, showToolOutput: !o.showToolOutput }));
    else if (isCommand("help", event)) nav.open({ kind: "help" });
    else return false;
    return true;
  }, PRIORITY.screen);

  const blocked = !c ? "loading…" : c.archived ? "this chat is archived" : request ? "answer the request above first" : null;
  // The chat's whole usage so far; each reply's own is in its footer.
  const usage =
    c && c.usage.tokens.input + c.usage.tokens.output > 0
      ? ` · ${c.usage.tokens.input} in / ${c.usage.tokens.output} out${c.usage.cost > 0 ? ` · $${c.usage.cost.toFixed(4)}` : ""}`
      : "";
  const title = c
    ? `── ${sanitizeInline(c.title)} · ${sanitizeInline(c.workerName)} on ${sanitizeInline(c.machineName)}${c.worktree ? ` · ${worktreeLabel(c)}` : ""}${usage} · ${chatId} ──`
    : `── ${chatId} ──`;
  return (
    <Box flexDirection="column" width={width} height={rows}>
      <Lines lines={[cutLine(title, width, { color: "cyan", bold: true })]} />
      <Box flexDirection="column" height={height}>
        <Lines lines={shown} />
      </Box>
      {c?.busy && !stream.data ? (
        <Text color={tint("cyan")}>
          <Spinner /> waiting for the model…
        </Text>
      ) : null}
      {c?.retry ? (
        <Text color={tint("yellow")} wrap="truncate-end">
          ↻ the provider failed; OpenCode retries (attempt {c.retry.attempt}): {sanitizeInline(c.retry.message)}
        </Text>
      ) : null}
      {request ? (
        <RequestPrompt
          request={request}
          width={width}
          room={shared}
          active={!nav.dialog}
          onPermit={(reply) => void call(api.chat.permit, { request: request.id, reply }, reply === "reject" ? "rejected" : `allowed (${reply})`)}
          onAnswer={(answers) =>
            void call(api.chat.answer, answers ? { request: request.id, answers } : { request: request.id, reject: true }, answers ? "answered" : "dismissed")
          }
        />
      ) : null}
      <Composer edit={edit} onEdit={editDraft} onSend={send} blockedReason={blocked} active={!nav.dialog && !request} width={width} />
      <Text dimColor wrap="truncate-end">
        {c?.busy ? "Esc stops the reply · " : ""}Tab fleet · PgUp/PgDn scroll · Ctrl+P model{model ? ` (${sanitizeInline(model)})` : ""} · Ctrl+D diff · Ctrl+R
        reasoning {options.showReasoning ? "on" : "off"} · Ctrl+T tool output {options.showToolOutput ? "on" : "off"}
      </Text>
    </Box>
  );
}
