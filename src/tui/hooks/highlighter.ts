// Draws again once the syntax highlighter has loaded (it loads lazily, on the first fenced code
// block with a language), so code drawn plain meanwhile gets its colours.
import { useEffect, useReducer } from "react";
import { onHighlighterReady } from "../render/highlight.js";

export function useHighlighterReady(): void {
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  useEffect(() => onHighlighterReady(redraw), []);
}
