// Dialogs drawn over the screen: a one-line text prompt, a list to choose from, and the help.
// They take every key while open (dialog priority), so nothing reaches the screen beneath.
import { Box, Text } from "ink";
import { tint } from "../theme.js";
import { sanitizeInline } from "../../terminal/sanitize.js";
import { useState } from "react";
import { PRIORITY, useKeys } from "../keys/dispatcher.js";
import { isCommand, KEYMAP, type Command } from "../keys/keymap.js";
import { cutLine, type Line, wrap } from "../render/lines.js";
import { editText } from "./Composer.js";
import { Lines } from "./Lines.js";

export function TextPromptDialog(props: {
  title: string;
  label: string;
  initial?: string;
  error?: string | null;
  busy?: boolean;
  onSubmit(value: string): void;
  onCancel(): void;
  width: number;
}) {
  const [edit, setEdit] = useState({ value: props.initial ?? "", cursor: (props.initial ?? "").length });
  useKeys((event) => {
    if (isCommand("cancel", event)) props.onCancel();
    else if (event.name === "return" && !event.alt && !event.shift && !event.ctrl) {
      if (!props.busy) props.onSubmit(edit.value);
    } else {
      const next = editText(edit, event);
      if (next && !next.value.includes("\n")) setEdit(next);
    }
    return true;
  }, PRIORITY.dialog);
  return (
    <Box borderStyle="round" borderColor={tint("cyan")} flexDirection="column" width={props.width} paddingX={1}>
      <Text bold>{props.title}</Text>
      <Text wrap="truncate-start">
        {props.label} {edit.value.slice(0, edit.cursor)}
        <Text inverse>{edit.value[edit.cursor] ?? " "}</Text>
        {edit.value.slice(edit.cursor + 1)}
      </Text>
      {props.busy ? <Text color={tint("yellow")}>working…</Text> : null}
      {props.error ? (
        <Text color={tint("red")} wrap="wrap">
          ✗ {sanitizeInline(props.error)}
        </Text>
      ) : null}
      <Text dimColor>Enter confirms · Esc cancels</Text>
    </Box>
  );
}

export interface Choice<T> {
  label: string;
  hint?: string;
  value: T;
}

export function ChoiceDialog<T>(props: { title: string; choices: Choice<T>[]; onChoose(value: T): void; onCancel(): void; width: number; footer?: string }) {
  const [index, setIndex] = useState(0);
  useKeys((event) => {
    if (isCommand("cancel", event)) props.onCancel();
    else if (isCommand("up", event)) setIndex((i) => Math.max(0, i - 1));
    else if (isCommand("down", event)) setIndex((i) => Math.min(props.choices.length - 1, i + 1));
    else if (isCommand("open", event) && props.choices[index]) props.onChoose(props.choices[index]!.value);
    else if (event.name === "text" && /^[1-9]$/.test(event.text) && props.choices[Number(event.text) - 1])
      props.onChoose(props.choices[Number(event.text) - 1]!.value);
    return true;
  }, PRIORITY.dialog);
  return (
    <Box borderStyle="round" borderColor={tint("cyan")} flexDirection="column" width={props.width} paddingX={1}>
      <Text bold>{props.title}</Text>
      {props.choices.length === 0 ? <Text dimColor>(nothing to choose)</Text> : null}
      {props.choices.map((choice, i) => (
        <Text key={i} inverse={i === index} wrap="truncate-end">
          {i < 9 ? `${i + 1} ` : "  "}
          {choice.label}
          {choice.hint ? <Text dimColor> {choice.hint}</Text> : null}
        </Text>
      ))}
      <Text dimColor>{props.footer ?? "↑↓ or a number, Enter chooses · Esc cancels"}</Text>
    </Box>
  );
}

const SCOPES: Array<[Command["scope"], string]> = [
  ["everywhere", "Everywhere"],
  ["lists", "Lists (fleet, workers, machines…)"],
  ["fleet", "Fleet"],
  ["chat", "Chat"],
  ["prompt", "When OpenCode asks (a permission or a question)"],
  ["checklists", "Checklists"],
  ["attendance", "Attendance"],
  ["discussions", "Discussions"],
  ["presentations", "Following a presentation"],
  ["schedules", "Scheduled prompts"],
  ["diff", "A chat's diff (Ctrl+D in a chat)"],
  ["pager", "A tool's whole output (Ctrl+O in a chat)"],
];

/** The help's text: every command of the keymap, by where it applies. */
function helpLines(width: number): Line[] {
  const commands = Object.values(KEYMAP) as Command[];
  const lines: Line[] = [];
  for (const [scope, title] of SCOPES) {
    lines.push([], cutLine(title, width, { color: "cyan" }));
    for (const c of commands.filter((command) => command.scope === scope)) {
      lines.push(...wrap([{ text: "  " }, { text: c.label.padEnd(34), bold: true }, { text: ` ${c.help}` }], width, [{ text: " ".repeat(37) }]));
    }
  }
  return lines;
}

/** The keys, generated from the keymap; scrolls when the screen is shorter than the list. */
export function HelpDialog({ onClose, width, rows }: { onClose(): void; width: number; rows: number }) {
  const lines = helpLines(width - 4);
  const visible = Math.max(1, rows - 4); // border, title, footer
  const [top, setTop] = useState(0);
  const last = Math.max(0, lines.length - visible);
  useKeys((event) => {
    if (isCommand("cancel", event) || isCommand("help", event) || isCommand("open", event) || isCommand("quit", event)) onClose();
    else if (isCommand("pageDown", event)) setTop((t) => Math.min(last, t + visible - 1));
    else if (isCommand("pageUp", event)) setTop((t) => Math.max(0, t - visible + 1));
    else if (isCommand("down", event)) setTop((t) => Math.min(last, t + 1));
    else if (isCommand("wheelDown", event)) setTop((t) => Math.min(last, t + 3));
    else if (isCommand("wheelUp", event)) setTop((t) => Math.max(0, t - 3));
    else if (isCommand("up", event)) setTop((t) => Math.max(0, t - 1));
    return true;
  }, PRIORITY.dialog);
  const first = Math.min(top, last);
  return (
    <Box borderStyle="round" borderColor={tint("cyan")} flexDirection="column" width={width} paddingX={1}>
      <Text bold>Keys</Text>
      <Lines lines={lines.slice(first, first + visible)} />
      <Text dimColor wrap="truncate-end">
        {last > 0 ? `${first + 1}–${Math.min(lines.length, first + visible)} of ${lines.length} · ↑↓ PgUp/PgDn scroll · ` : ""}Esc or ? closes
      </Text>
    </Box>
  );
}
