// Selection and the keys every list screen shares (move, back, go to a screen).
import { useState } from "react";
import { PRIORITY, useKeys } from "../keys/dispatcher.js";
import { isCommand } from "../keys/keymap.js";
import type { KeyEvent } from "../keys/parse.js";
import { type Screen, useNavigation } from "../navigation.js";

/** Selection and the keys every list screen shares; `extra` handles the screen's own keys. */
export function useListKeys(count: number, extra: (index: number, event: KeyEvent) => boolean, back: Screen = { name: "fleet" }): number {
  const nav = useNavigation();
  const [index, setIndex] = useState(0);
  useKeys((event) => {
    if (isCommand("up", event)) setIndex((i) => Math.max(0, i - 1));
    else if (isCommand("down", event)) setIndex((i) => Math.min(Math.max(0, count - 1), i + 1));
    else if (isCommand("back", event) || isCommand("cancel", event)) nav.go(back);
    else if (isCommand("goTo", event)) nav.open({ kind: "goto" });
    else if (!extra(Math.min(index, Math.max(0, count - 1)), event)) return false;
    return true;
  }, PRIORITY.screen);
  return Math.min(index, Math.max(0, count - 1));
}
