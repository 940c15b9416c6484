// A pending permission or question, answered with keys: y once, a always, n reject; for a
// question, the number of an option (or n to dismiss). An edit shows its diff, cut to the rows it
// may use; every permission says where it would run (directory, worker, machine).
import { Box, Text } from "ink";
import { Lines } from "./Lines.js";
import { diffLines } from "../render/diff.js";
import { cutLine, type Line } from "../render/lines.js";
import { tint } from "../theme.js";
import type { RequestView } from "../../protocol/api/index.js";
import { PRIORITY, useKeys } from "../keys/dispatcher.js";
import { isCommand } from "../keys/keymap.js";
import { sanitizeInline } from "../../terminal/sanitize.js";

export interface RequestPromptProps {
  request: RequestView;
  onPermit(reply: "once" | "always" | "reject"): void;
  onAnswer(answers: string[][] | null): void;
  active: boolean;
  width: number;
  /** Rows the prompt and what is above it share: the diff takes what is left after a few transcript rows. */
  room: number;
  /** Swallow other typing while it waits (in a chat); the fleet's preview lets other keys through. */
  exclusive?: boolean;
}

/** Rows a permission takes without its diff: the border, what it asks, its detail, where, the keys. */
const PERMISSION_ROWS = 6;
/** Transcript rows kept above the prompt however long the diff is. */
const KEEP_ABOVE = 4;

/** The diff's rows as shown: cut to what `room` leaves, the last row saying how many more there are. */
function shownDiff(request: RequestView, room: number, width: number): Line[] {
  const diff = request.permission?.diff;
  if (!diff) return [];
  const lines = diffLines(diff, width);
  const budget = Math.max(0, room - PERMISSION_ROWS - KEEP_ABOVE);
  if (lines.length <= budget) return lines;
  if (budget < 2) return [];
  return [...lines.slice(0, budget - 1), cutLine(`… ${lines.length - budget + 1} more lines · ocfleet chat pending shows all`, width, { dim: true })];
}

/** Rows the prompt takes on screen, out of `room`. */
export function requestPromptHeight(request: RequestView, room: number, width: number): number {
  if (request.kind !== "permission") return 4 + (request.questions?.[0]?.options.length ?? 0);
  return PERMISSION_ROWS + shownDiff(request, room, width - 2).length;
}

export function RequestPrompt({ request, onPermit, onAnswer, active, width, room, exclusive = true }: RequestPromptProps) {
  const question = request.questions?.[0];
  useKeys(
    (event) => {
      if (request.kind === "permission") {
        if (isCommand("permitOnce", event)) onPermit("once");
        else if (isCommand("permitAlways", event)) onPermit("always");
        else if (isCommand("reject", event)) onPermit("reject");
        else return exclusive && event.name === "text"; // swallow other typing while the prompt waits
        return true;
      }
      if (isCommand("reject", event)) {
        onAnswer(null);
        return true;
      }
      const choice = event.name === "text" ? Number(event.text) : NaN;
      if (question && choice >= 1 && choice <= question.options.length && (request.questions?.length ?? 0) === 1) {
        onAnswer([[question.options[choice - 1]!.label]]);
        return true;
      }
      return exclusive && event.name === "text";
    },
    PRIORITY.prompt,
    active,
  );

  if (request.kind === "permission") {
    const p = request.permission;
    return (
      <Box borderStyle="double" borderColor={tint("yellow")} flexDirection="column" width={width}>
        <Text color={tint("yellow")} bold wrap="truncate-end">
          ⏸ OpenCode asks to use {sanitizeInline(p?.name ?? "a tool")}
        </Text>
        <Text wrap="truncate-end">{p?.detail || p?.patterns.length ? sanitizeInline(p?.detail ?? p?.patterns.join(", ") ?? "") : " "}</Text>
        <Text dimColor wrap="truncate-end">
          {sanitizeInline(request.workerName)}
          {request.machineName ? ` on ${sanitizeInline(request.machineName)}` : ""}
          {p?.directory ? ` · in ${sanitizeInline(p.directory)}` : ""}
        </Text>
        <Lines lines={shownDiff(request, room, width - 2)} />
        <Text>
          <Text color={tint("green")} bold>
            [y]
          </Text>{" "}
          once{" "}
          <Text color={tint("green")} bold>
            [a]
          </Text>{" "}
          always{" "}
          <Text color={tint("red")} bold>
            [n]
          </Text>{" "}
          reject
        </Text>
      </Box>
    );
  }
  return (
    <Box borderStyle="double" borderColor={tint("yellow")} flexDirection="column" width={width}>
      <Text color={tint("yellow")} bold wrap="truncate-end">
        ? {sanitizeInline(question?.question ?? "OpenCode has a question")}
      </Text>
      {(question?.options ?? []).map((option, i) => (
        <Text key={option.label} wrap="truncate-end">
          <Text bold>[{i + 1}]</Text> {sanitizeInline(option.label)} <Text dimColor>{sanitizeInline(option.description)}</Text>
        </Text>
      ))}
      <Text dimColor>
        {(request.questions?.length ?? 0) > 1 ? `${request.questions!.length} questions: answer with ocfleet chat answer ${request.id} …; ` : ""}[n] dismiss
      </Text>
    </Box>
  );
}
