// A spinner on stderr for long waits; silent when stderr is not a terminal or output is JSON.
import { sanitizeInline } from "../terminal/sanitize.js";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export interface Progress {
  update(message: string): void;
  stop(): void;
}

export function startProgress(enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  let message = "";
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  const draw = () => process.stderr.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${message}`);
  return {
    update(next) {
      // Messages name workers and quote their reasons: outside text, kept to one line.
      message = sanitizeInline(next);
      if (!timer) {
        // Only show a spinner for waits a person would notice.
        timer = setInterval(draw, 80);
      }
    },
    stop() {
      if (!timer) return;
      clearInterval(timer);
      timer = undefined;
      process.stderr.write("\r\x1b[2K");
    },
  };
}
