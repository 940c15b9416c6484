// Where the TUI is: the screen, an open dialog, a passing notice, and the fleet's selection
// (kept here so it survives a visit to a chat).
import { createContext, useContext, type ReactNode } from "react";
import type { Edit } from "./components/Composer.js";

export type Screen =
  | { name: "fleet" }
  /** `at`: a message to scroll to and mark (a search hit). */
  | { name: "chat"; chatId: string; at?: { messageId: string; partId: string } }
  /** One tool call's whole output (the pager). */
  | { name: "output"; chatId: string; messageId: string; partId: string }
  | { name: "diff"; chatId: string }
  | { name: "workers" }
  | { name: "machines" }
  | { name: "checklists" }
  | { name: "checklist"; key: string }
  | { name: "logs"; worker: string; back: Screen }
  | { name: "attendance"; key?: string }
  | { name: "discussions"; key?: string }
  | { name: "presentations"; id?: string }
  | { name: "schedules"; id?: string }
  | { name: "admin" };

export type DialogSpec =
  | { kind: "help" }
  | { kind: "addWorker"; machine?: string }
  | { kind: "search" }
  | { kind: "goto" }
  | { kind: "signIn" }
  | { kind: "pickModel"; chatId: string; worker: string }
  | { kind: "addChecklistItem"; key: string }
  | { kind: "addSchedule" }
  /** A one-line question; `submit` resolves to close the dialog or rejects to show the error. */
  | { kind: "prompt"; title: string; label: string; initial?: string; submit(value: string): Promise<unknown> }
  | { kind: "message"; title: string; body: string }
  /** A yes/no question before something that interrupts work: y or Enter runs `yes`. */
  | { kind: "confirm"; title: string; yes(): unknown };

export interface FleetSelection {
  selectedId: string | null;
  collapsed: ReadonlySet<string>;
}

export interface Navigation {
  screen: Screen;
  go(screen: Screen): void;
  dialog: DialogSpec | null;
  open(dialog: DialogSpec): void;
  close(): void;
  notify(text: string, error?: boolean): void;
  fleet: FleetSelection;
  setFleet(update: (previous: FleetSelection) => FleetSelection): void;
  /** Chats that finished, failed or started waiting while not on screen, until opened. */
  unread: ReadonlySet<string>;
  /** Per chat: the text typed and not sent yet, kept while the TUI runs (leaving a chat keeps it). */
  drafts: Map<string, Edit>;
  /** Per chat: the model to use for new messages, when picked in the TUI. */
  modelFor(chatId: string): string | null;
  setModel(chatId: string, model: string | null): void;
  quit(): void;
  /** The state directory of the hub this TUI talks to (for the credential store). */
  home: string;
}

const NavigationContext = createContext<Navigation | null>(null);

export function NavigationProvider({ value, children }: { value: Navigation; children: ReactNode }) {
  return <NavigationContext.Provider value={value}>{children}</NavigationContext.Provider>;
}

export function useNavigation(): Navigation {
  const navigation = useContext(NavigationContext);
  if (!navigation) throw new Error("useNavigation needs a NavigationProvider above it");
  return navigation;
}
