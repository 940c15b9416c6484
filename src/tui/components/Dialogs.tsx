// Dialogs drawn over the screen: a one-line text prompt, a list to choose from, and the help.
// They take every key while open (dialog priority), so nothing reaches the screen beneath.
import { Box, Text } from "ink";
import { useState } from "react";
import { PRIORITY, useKeys } from "../keys/dispatcher.js";
import { isCommand, KEYMAP, type Command } from "../keys/keymap.js";
import { editText } from "./Composer.js";

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
    <Box borderStyle="round" borderColor="cyan" flexDirection="column" width={props.width} paddingX={1}>
      <Text bold>{props.title}</Text>
      <Text wrap="truncate-start">
        {props.label} {edit.value.slice(0, edit.cursor)}
        <Text inverse>{edit.value[edit.cursor] ?? " "}</Text>
        {edit.value.slice(edit.cursor + 1)}
      </Text>
      {props.busy ? <Text color="yellow">working…</Text> : null}
      {props.error ? (
        <Text color="red" wrap="wrap">
          ✗ {props.error}
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
    <Box borderStyle="round" borderColor="cyan" flexDirection="column" width={props.width} paddingX={1}>
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
  ["prompt", "When OpenCode asks permission"],
];

export function HelpDialog({ onClose, width }: { onClose(): void; width: number }) {
  useKeys((event) => {
    if (isCommand("cancel", event) || isCommand("help", event) || isCommand("open", event) || isCommand("quit", event)) onClose();
    return true;
  }, PRIORITY.dialog);
  const commands = Object.values(KEYMAP) as Command[];
  return (
    <Box borderStyle="round" borderColor="cyan" flexDirection="column" width={width} paddingX={1}>
      <Text bold>Keys</Text>
      {SCOPES.map(([scope, title]) => (
        <Box key={scope} flexDirection="column" marginTop={1}>
          <Text color="cyan">{title}</Text>
          {commands
            .filter((c) => c.scope === scope)
            .map((c) => (
              <Text key={c.label + c.help} wrap="truncate-end">
                {"  "}
                <Text bold>{c.label.padEnd(30)}</Text> {c.help}
              </Text>
            ))}
        </Box>
      ))}
      <Text dimColor>Esc or ? closes</Text>
    </Box>
  );
}
