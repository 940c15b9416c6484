// A chat's changes (Ctrl+D in a chat): the diff from api.worktrees.diff, coloured, scrolled a page
// at a time, with ] and [ jumping between files; Esc goes back to the chat.
import { Box, Text } from "ink";
import React, { useMemo, useState } from "react";
import { api, type ChatDiff } from "../../protocol/api/index.js";
import { Lines } from "../components/Lines.js";
import { useClient } from "../hooks/client.js";
import { PRIORITY, useKeys } from "../keys/dispatcher.js";
import { isCommand } from "../keys/keymap.js";
import { useNavigation } from "../navigation.js";
import { diffLines } from "../render/diff.js";
import { cutLine, type Line } from "../render/lines.js";

/** Rows where each file's part of the patch starts ("diff --git" for git, "Index:" for OpenCode's). */
function fileStarts(patch: string): number[] {
  const starts: number[] = [];
  patch.split("\n").forEach((line, i) => {
    if (line.startsWith("diff --git ") || line.startsWith("Index: ")) starts.push(i);
  });
  return starts;
}

function summaryOf(diff: ChatDiff): string {
  const added = diff.files.reduce((sum, f) => sum + f.added, 0);
  const removed = diff.files.reduce((sum, f) => sum + f.removed, 0);
  const from = diff.source === "worktree" ? `branch ${diff.branch}, against where it branched` : "the files OpenCode says this chat's session edited";
  return `${diff.files.length} file(s), +${added} -${removed} (${from})`;
}

export function DiffScreen({ chatId, rows, width }: { chatId: string; rows: number; width: number }) {
  const nav = useNavigation();
  const client = useClient();
  const [diff, setDiff] = useState<ChatDiff | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** The first row shown. */
  const [top, setTop] = useState(0);
  React.useEffect(() => {
    let stopped = false;
    client.call(api.worktrees.diff, { chat: chatId }).then(
      (value) => !stopped && setDiff(value),
      (err: Error) => !stopped && setError(err.message),
    );
    return () => {
      stopped = true;
    };
  }, [client, chatId]);

  const body: Line[] = useMemo(() => {
    if (!diff) return [];
    const stat = diff.stat
      .replace(/\n$/, "")
      .split("\n")
      .map((line) => cutLine(line, width));
    return [...stat, cutLine(summaryOf(diff), width, { dim: true }), [], ...diffLines(diff.patch, width)];
  }, [diff, width]);
  const headerRows = diff ? diff.stat.replace(/\n$/, "").split("\n").length + 2 : 0;
  const starts = useMemo(() => (diff ? fileStarts(diff.patch).map((row) => row + headerRows) : []), [diff, headerRows]);
  const height = Math.max(1, rows - 1);
  const last = Math.max(0, body.length - height);
  const page = Math.max(1, height - 1);

  useKeys((event) => {
    if (isCommand("back", event) || isCommand("cancel", event)) nav.go({ name: "chat", chatId });
    else if (isCommand("pageUp", event)) setTop((t) => Math.max(0, t - page));
    else if (isCommand("pageDown", event)) setTop((t) => Math.min(last, t + page));
    else if (isCommand("wheelUp", event)) setTop((t) => Math.max(0, t - 3));
    else if (isCommand("wheelDown", event)) setTop((t) => Math.min(last, t + 3));
    else if (isCommand("nextFile", event)) setTop((t) => Math.min(last, starts.find((s) => s > t) ?? t));
    else if (isCommand("previousFile", event)) setTop((t) => [...starts].reverse().find((s) => s < t) ?? 0);
    else return false;
    return true;
  }, PRIORITY.screen);

  const title = `── changes of ${chatId}${diff?.branch ? ` · ⎇ ${diff.branch}` : ""} ──`;
  return (
    <Box flexDirection="column" width={width} height={rows}>
      <Lines lines={[cutLine(title, width, { color: "cyan", bold: true })]} />
      {error ? (
        <Text color="red" wrap="truncate-end">
          {cutLine(`cannot show the changes: ${error}`, width)[0]!.text}
        </Text>
      ) : !diff ? (
        <Text dimColor>loading…</Text>
      ) : diff.files.length === 0 ? (
        <Text dimColor>
          {
            cutLine(
              `no changes (${summaryOf(diff)
                .replace(/^[^(]*\(/, "")
                .replace(/\)$/, "")})`,
              width,
            )[0]!.text
          }
        </Text>
      ) : (
        <Lines lines={body.slice(Math.min(top, last), Math.min(top, last) + height)} />
      )}
    </Box>
  );
}
