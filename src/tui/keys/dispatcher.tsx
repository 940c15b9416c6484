// The one place that reads keys. Components subscribe with a priority; the highest-priority
// handler sees a key first and returns true to swallow it (dialogs take keys before the screen).
// Input comes through Ink's public API only: `setRawMode` makes Ink read stdin, and every chunk
// it reads is also a 'data' event on the stdin stream that `useStdin` hands out.
import { useStdin } from "ink";
import { createContext, useContext, useEffect, useLayoutEffect, useRef, type ReactNode } from "react";
import { KeyReader, type KeyEvent } from "./parse.js";

/** Priorities: higher wins. */
export const PRIORITY = { screen: 0, composer: 10, prompt: 20, dialog: 30, global: -10 } as const;

/** How long a lone ESC waits for the rest of an escape sequence before it counts as Escape. */
const ESCAPE_WAIT_MS = 30;

type Handler = (event: KeyEvent) => boolean | void;

interface Registration {
  handler: { current: Handler };
  priority: number;
  order: number;
}

interface Dispatcher {
  register(registration: Registration): () => void;
}

const DispatcherContext = createContext<Dispatcher | null>(null);

export function KeyProvider({ children }: { children: ReactNode }) {
  const { stdin, setRawMode, isRawModeSupported } = useStdin();
  const registrations = useRef(new Set<Registration>());

  useEffect(() => {
    if (isRawModeSupported) setRawMode(true);
    const reader = new KeyReader();
    // Keys are handled one per tick, so React commits each key's state before the next key is
    // seen: "j j" moves twice and "text⏎" sends the text, even when they arrive in one read.
    const queue: KeyEvent[] = [];
    let draining = false;
    const drain = () => {
      const event = queue.shift();
      if (!event) {
        draining = false;
        return;
      }
      const ordered = [...registrations.current].sort((a, b) => b.priority - a.priority || b.order - a.order);
      for (const registration of ordered) if (registration.handler.current(event) === true) break;
      // React schedules the render of this key's state from a microtask queued during the handler;
      // queueing the next key from a later microtask puts it behind that render.
      queueMicrotask(() => setImmediate(drain));
    };
    const enqueue = (events: KeyEvent[]) => {
      for (const event of events) queue.push(event); // not push(...events): a long paste is too many arguments
      if (!draining && queue.length > 0) {
        draining = true;
        drain();
      }
    };
    // A lone ESC is Escape unless the rest of a sequence follows at once.
    let escapeTimer: NodeJS.Timeout | undefined;
    const onData = (chunk: string | Buffer) => {
      clearTimeout(escapeTimer);
      enqueue(reader.push(chunk.toString()));
      if (reader.waiting) escapeTimer = setTimeout(() => enqueue(reader.flush()), ESCAPE_WAIT_MS);
    };
    stdin.on("data", onData);
    return () => {
      clearTimeout(escapeTimer);
      stdin.off("data", onData);
      if (isRawModeSupported) setRawMode(false);
    };
  }, [stdin, setRawMode, isRawModeSupported]);

  const dispatcher = useRef<Dispatcher>({
    register(registration) {
      registrations.current.add(registration);
      return () => registrations.current.delete(registration);
    },
  });
  return <DispatcherContext.Provider value={dispatcher.current}>{children}</DispatcherContext.Provider>;
}

let nextOrder = 0;

/** Receives keys while `active`; return true from the handler to stop lower priorities seeing the key. */
export function useKeys(handler: Handler, priority: number, active = true): void {
  const dispatcher = useContext(DispatcherContext);
  if (!dispatcher) throw new Error("useKeys needs a KeyProvider above it");
  const current = useRef(handler);
  current.current = handler;
  // A layout effect: registered within the commit that draws the component, so a key that
  // arrives right after the screen shows a prompt already goes to that prompt.
  useLayoutEffect(() => {
    if (!active) return;
    // Later registrations of the same priority win: the newest dialog is on top.
    return dispatcher.register({ handler: current, priority, order: nextOrder++ });
  }, [dispatcher, priority, active]);
}
