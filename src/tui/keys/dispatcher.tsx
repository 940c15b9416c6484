// The one place that reads keys. Components subscribe with a priority; the highest-priority
// handler sees a key first and returns true to swallow it (dialogs take keys before the screen).
import { useStdin } from "ink";
import { createContext, useContext, useEffect, useLayoutEffect, useRef, type ReactNode } from "react";
import { parseKeys, PASTE_END, PASTE_START, pastedText, type KeyEvent } from "./parse.js";

/** Priorities: higher wins. */
export const PRIORITY = { screen: 0, composer: 10, prompt: 20, dialog: 30, global: -10 } as const;

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
  const { internal_eventEmitter, setRawMode, isRawModeSupported } = useStdin() as ReturnType<typeof useStdin> & {
    internal_eventEmitter: NodeJS.EventEmitter;
  };
  const registrations = useRef(new Set<Registration>());

  useEffect(() => {
    if (isRawModeSupported) setRawMode(true);
    let pasting = false;
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
      setImmediate(drain);
    };
    const enqueue = (events: KeyEvent[]) => {
      queue.push(...events);
      if (!draining) {
        draining = true;
        drain();
      }
    };
    const onInput = (sequence: string) => {
      if (sequence === PASTE_START || sequence === PASTE_END) {
        pasting = sequence === PASTE_START;
        return;
      }
      enqueue(pasting ? [pastedText(sequence)] : parseKeys(sequence));
    };
    internal_eventEmitter.on("input", onInput);
    return () => {
      internal_eventEmitter.off("input", onInput);
      if (isRawModeSupported) setRawMode(false);
    };
  }, [internal_eventEmitter, setRawMode, isRawModeSupported]);

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
