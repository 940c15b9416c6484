// Text from outside as an attacker writes it, and the check that none of it reaches a terminal raw.
import { expect } from "vitest";
import type { CliResult } from "./daemon.js";

/** OSC 52 (writes the clipboard), OSC 0 (retitles the window), CSI (clears the screen) and a C1 CSI. */
export const HOSTILE = "pwn\x1b]52;c;SGVsbG8=\x1b\\ \x1b]0;owned\x07 \x1b[2J \u009b31m end";

/** What a terminal must never receive from outside text: C0 controls but newline and tab, DEL, C1. */
export const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

export function expectNoControls(result: CliResult): void {
  expect(result.stdout).not.toMatch(CONTROL);
  expect(result.stderr).not.toMatch(CONTROL);
}
