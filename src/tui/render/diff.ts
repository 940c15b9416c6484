// A unified diff as styled lines: + green, - red, @@ cyan, file headers bold. cutLine sanitizes
// each line first, so the colour is ours and the text (git's or OpenCode's) can carry no escapes.
import { cutLine, type Line } from "./lines.js";

/** The colour a diff line is drawn in, from its first characters. */
function diffStyle(line: string): Parameters<typeof cutLine>[2] {
  if (/^(diff --git|index |\+\+\+ |--- |new file mode|deleted file mode|similarity|rename |Index: |={3,})/.test(line)) return { bold: true };
  if (line.startsWith("@@")) return { color: "cyan" };
  if (line.startsWith("+")) return { color: "green" };
  if (line.startsWith("-")) return { color: "red" };
  return {};
}

/** Each line of a unified diff cut to `width` columns and coloured. */
export function diffLines(patch: string, width: number): Line[] {
  return patch
    .replace(/\n$/, "")
    .split("\n")
    .map((line) => cutLine(line.replace(/\t/g, "    "), width, diffStyle(line)));
}
