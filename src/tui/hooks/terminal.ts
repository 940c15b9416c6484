// The terminal's size, updated when it is resized. A resize also wipes the (alternate) screen, so
// the next frame is drawn on a clean page: terminals crop or reflow what was there differently,
// and a frame erased line by line from where the cursor ended up would leave ghosts.
import { useStdout } from "ink";
import { useEffect, useState } from "react";

export function useTerminalSize(): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const [size, setSize] = useState(() => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 }));
  useEffect(() => {
    const onResize = () => {
      stdout.write("\x1b[2J\x1b[H"); // a row-by-row clear of the alternate screen (see guardedStdout)
      setSize({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
    };
    stdout.on("resize", onResize);
    return () => {
      stdout.off("resize", onResize);
    };
  }, [stdout]);
  return size;
}
