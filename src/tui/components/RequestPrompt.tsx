// A pending permission or question, answered with keys: y once, a always, n reject; for a
// question, the number of an option (or n to dismiss).
import { Box, Text } from "ink";
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
  /** Swallow other typing while it waits (in a chat); the fleet's preview lets other keys through. */
  exclusive?: boolean;
}

/** Rows the prompt takes on screen. */
export function requestPromptHeight(request: RequestView): number {
  return request.kind === "permission" ? 5 : 4 + (request.questions?.[0]?.options.length ?? 0);
}

export function RequestPrompt({ request, onPermit, onAnswer, active, width, exclusive = true }: RequestPromptProps) {
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
        {p?.detail || p?.patterns.length ? <Text wrap="truncate-end">{sanitizeInline(p?.detail ?? p?.patterns.join(", ") ?? "")}</Text> : null}
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
