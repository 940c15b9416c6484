// The message box at the bottom of a chat: Enter sends; Ctrl+J, Alt+Enter or Shift+Enter (where the
// terminal tells it from Enter) adds a line. A small editor: arrows, Home/End (Ctrl+A/E), Backspace/Delete, Ctrl+U and Ctrl+W.
import { Box, Text } from "ink";
import { tint } from "../theme.js";
import { useRef } from "react";
import { PRIORITY, useKeys } from "../keys/dispatcher.js";
import { isCommand } from "../keys/keymap.js";
import type { KeyEvent } from "../keys/parse.js";

export interface ComposerProps {
  /** The text and cursor: the screen owns them, so it knows how tall the composer is. */
  edit: Edit;
  onEdit(edit: Edit): void;
  onSend(text: string): void;
  /** Why sending is not possible now (shown instead of the placeholder), or null. */
  blockedReason: string | null;
  active: boolean;
  width: number;
  maxLines?: number;
}

export interface Edit {
  value: string;
  cursor: number;
}

export const EMPTY_EDIT: Edit = { value: "", cursor: 0 };

/** Rows the composer takes on screen: its border and up to `maxLines` lines of text. */
export function composerHeight(edit: Edit, maxLines = 6): number {
  return 2 + Math.min(maxLines, Math.max(1, edit.value.split("\n").length));
}

/** Applies one key to the text; returns null for keys the composer does not use. */
export function editText(state: Edit, event: KeyEvent): Edit | null {
  const { value, cursor } = state;
  const lineStart = value.lastIndexOf("\n", cursor - 1) + 1;
  const lineEndAt = value.indexOf("\n", cursor);
  const lineEnd = lineEndAt === -1 ? value.length : lineEndAt;
  const insert = (text: string) => ({ value: value.slice(0, cursor) + text + value.slice(cursor), cursor: cursor + text.length });
  if (isCommand("newline", event)) return insert("\n");
  if (event.name === "text") return insert(event.text.replace(/\r\n?/g, "\n"));
  if (event.ctrl) {
    switch (event.name) {
      case "a":
        return { value, cursor: lineStart };
      case "e":
        return { value, cursor: lineEnd };
      case "u":
        return { value: value.slice(0, lineStart) + value.slice(cursor), cursor: lineStart };
      case "w": {
        const before = value.slice(0, cursor).replace(/\S+\s*$/, "");
        return { value: before + value.slice(cursor), cursor: before.length };
      }
      case "left":
      case "right":
        break;
      default:
        return null;
    }
  }
  switch (event.name) {
    case "backspace":
      if (event.alt) {
        const before = value.slice(0, cursor).replace(/\S+\s*$/, "");
        return { value: before + value.slice(cursor), cursor: before.length };
      }
      return cursor === 0 ? state : { value: value.slice(0, cursor - 1) + value.slice(cursor), cursor: cursor - 1 };
    case "delete":
      return { value: value.slice(0, cursor) + value.slice(cursor + 1), cursor };
    case "left":
      return { value, cursor: Math.max(0, cursor - 1) };
    case "right":
      return { value, cursor: Math.min(value.length, cursor + 1) };
    case "home":
      return { value, cursor: lineStart };
    case "end":
      return { value, cursor: lineEnd };
    case "up":
    case "down": {
      const column = cursor - lineStart;
      if (event.name === "up") {
        if (lineStart === 0) return null; // let the screen have it
        const prevStart = value.lastIndexOf("\n", lineStart - 2) + 1;
        return { value, cursor: Math.min(prevStart + column, lineStart - 1) };
      }
      if (lineEndAt === -1) return null;
      const nextEndAt = value.indexOf("\n", lineEnd + 1);
      return { value, cursor: Math.min(lineEnd + 1 + column, nextEndAt === -1 ? value.length : nextEndAt) };
    }
    default:
      return null;
  }
}

export function Composer({ edit, onEdit, onSend, blockedReason, active, width, maxLines = 6 }: ComposerProps) {
  // Keys may come faster than renders: each key edits the text the previous key left, not the
  // text of the last render.
  const latest = useRef(edit);
  const rendered = useRef(edit);
  if (rendered.current !== edit) latest.current = rendered.current = edit;
  const setEdit = (next: Edit) => {
    latest.current = next;
    onEdit(next);
  };
  useKeys(
    (event) => {
      const current = latest.current;
      if (current.value === "" && isCommand("help", event)) return false; // ? on an empty message is help
      if (isCommand("send", event) && !isCommand("newline", event)) {
        if (blockedReason || current.value.trim() === "") return true;
        onSend(current.value);
        setEdit(EMPTY_EDIT);
        return true;
      }
      const next = editText(current, event);
      if (!next) return false;
      setEdit(next);
      return true;
    },
    PRIORITY.composer,
    active,
  );

  const lines = edit.value.split("\n");
  const cursorLine = edit.value.slice(0, edit.cursor).split("\n").length - 1;
  const first = Math.max(0, Math.min(cursorLine - maxLines + 1, lines.length - maxLines));
  let offset = lines.slice(0, first).reduce((n, l) => n + l.length + 1, 0);
  return (
    <Box borderStyle="round" borderColor={tint(active ? "cyan" : "gray")} flexDirection="column" width={width}>
      {edit.value === "" ? (
        <Text dimColor wrap="truncate-end">
          {active ? <Text inverse> </Text> : null}
          {blockedReason ?? "Message — Enter sends · Ctrl+J or Alt+Enter new line · Esc stops a reply · ? help"}
        </Text>
      ) : (
        lines.slice(first, first + maxLines).map((line, i) => {
          const start = offset;
          offset += line.length + 1;
          const at = edit.cursor - start;
          const here = active && at >= 0 && at <= line.length && cursorLine === first + i;
          return (
            <Text key={first + i} wrap="wrap">
              {here ? (
                <>
                  {line.slice(0, at)}
                  <Text inverse>{line[at] ?? " "}</Text>
                  {line.slice(at + 1)}
                </>
              ) : (
                line || " "
              )}
            </Text>
          );
        })
      )}
    </Box>
  );
}
