// A tool call's whole output in a pager (Ctrl+O in a chat): the chat shows a dozen lines of it,
// this shows all of them, wrapped to the width, live while the tool still runs. The text passes
// the sanitizer through `wrap`, like everything else the transcript draws.
import { Box, Text } from "ink";
import { useMemo, useState } from "react";
import { api, type PartView } from "../../protocol/api/index.js";
import { Lines } from "../components/Lines.js";
import { useQuery } from "../hooks/client.js";
import { PRIORITY, useKeys } from "../keys/dispatcher.js";
import { isCommand } from "../keys/keymap.js";
import { useNavigation } from "../navigation.js";
import { toolTarget } from "../render/blocks.js";
import { appendAll, cutLine, type Line, wrap } from "../render/lines.js";

type ToolPart = Extract<PartView, { kind: "tool" }>;

/** Rows the mouse wheel scrolls at a time. */
export const WHEEL_ROWS = 3;

function outputLines(part: ToolPart, width: number): Line[] {
  const lines: Line[] = [];
  const text = (part.output ?? "").replace(/\n$/, "");
  for (const raw of text === "" ? [] : text.split("\n")) appendAll(lines, wrap([{ text: raw.replace(/\t/g, "    ") }], width));
  if (part.error) for (const raw of part.error.split("\n")) appendAll(lines, wrap([{ text: raw, color: "red" }], width));
  if (lines.length === 0) lines.push(cutLine(part.status === "running" || part.status === "pending" ? "(no output yet)" : "(no output)", width, { dim: true }));
  return lines;
}

export function OutputScreen({ chatId, messageId, partId, rows, width }: { chatId: string; messageId: string; partId: string; rows: number; width: number }) {
  const nav = useNavigation();
  const messages = useQuery(api.chat.messages, { chat: chatId });
  const stream = useQuery(api.chat.stream, { chat: chatId });
  const part = useMemo(() => {
    const message = [...(messages.data ?? []), ...(stream.data ? [stream.data] : [])].find((m) => m.id === messageId);
    return message?.parts.find((p): p is ToolPart => p.id === partId && p.kind === "tool") ?? null;
  }, [messages.data, stream.data, messageId, partId]);
  const body = useMemo(() => (part ? outputLines(part, width) : []), [part, width]);
  /** The first row shown. */
  const [top, setTop] = useState(0);
  const height = Math.max(1, rows - 2);
  const last = Math.max(0, body.length - height);
  const page = Math.max(1, height - 1);
  const clamp = (row: number) => Math.max(0, Math.min(last, row));

  useKeys((event) => {
    if (isCommand("leavePager", event)) nav.go({ name: "chat", chatId });
    else if (isCommand("lineDown", event)) setTop((t) => clamp(t + 1));
    else if (isCommand("lineUp", event)) setTop((t) => clamp(t - 1));
    else if (isCommand("pageDown", event)) setTop((t) => clamp(t + page));
    else if (isCommand("pageUp", event)) setTop((t) => clamp(t - page));
    else if (isCommand("wheelDown", event)) setTop((t) => clamp(t + WHEEL_ROWS));
    else if (isCommand("wheelUp", event)) setTop((t) => clamp(t - WHEEL_ROWS));
    else if (isCommand("top", event)) setTop(0);
    else if (isCommand("bottom", event)) setTop(last);
    else return false;
    return true;
  }, PRIORITY.screen);

  const first = Math.min(top, last);
  const title = part ? `── ${part.tool} ${toolTarget(part)} · ${part.status} ──` : `── tool output ──`;
  const position = body.length > height ? `lines ${first + 1}–${Math.min(body.length, first + height)} of ${body.length}` : `${body.length} lines`;
  return (
    <Box flexDirection="column" width={width} height={rows}>
      <Lines lines={[cutLine(title, width, { color: "cyan", bold: true })]} />
      <Box flexDirection="column" height={height}>
        {!part ? (
          <Text dimColor>{messages.loading ? "loading…" : "this tool call is no longer in the chat"}</Text>
        ) : (
          <Lines lines={body.slice(first, first + height)} />
        )}
      </Box>
      <Text dimColor wrap="truncate-end">
        {position}
      </Text>
    </Box>
  );
}
