// Draws pre-wrapped styled lines (see render/lines.ts); one Ink <Text> per line, never wrapped again.
import { Text } from "ink";
import { tint } from "../theme.js";
import type { Line } from "../render/lines.js";

export function Lines({ lines }: { lines: Line[] }) {
  return (
    <>
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate-end">
          {line.length === 0
            ? " "
            : line.map((s, j) => (
                <Text key={j} color={tint(s.color)} bold={s.bold} dimColor={s.dim} italic={s.italic} inverse={s.inverse}>
                  {s.text}
                </Text>
              ))}
        </Text>
      ))}
    </>
  );
}
