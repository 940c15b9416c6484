// The TUI's root: screens, dialogs, notices, the connection banner and the status bar.
import { Box, useApp } from "ink";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Edit } from "./components/Composer.js";
import { api } from "../protocol/api/index.js";
import { ConnectionBanner, Notice } from "./components/Banner.js";
import { DiffScreen } from "./screens/DiffScreen.js";
import { DialogLayer } from "./components/FleetDialogs.js";
import { StatusBar } from "./components/StatusBar.js";
import { useAttention } from "./hooks/attention.js";
import { useConnectionState, useQuery } from "./hooks/client.js";
import { useTerminalSize } from "./hooks/terminal.js";
import { PRIORITY, useKeys } from "./keys/dispatcher.js";
import { hintLine, isCommand } from "./keys/keymap.js";
import { NavigationProvider, type DialogSpec, type FleetSelection, type Navigation, type Screen } from "./navigation.js";
import { ChatScreen } from "./screens/ChatScreen.js";
import { ChecklistScreen, ChecklistsScreen } from "./screens/ChecklistsScreen.js";
import { FleetScreen } from "./screens/FleetScreen.js";
import { OutputScreen } from "./screens/OutputScreen.js";
import { LogsScreen, MachinesScreen, WorkersScreen } from "./screens/ListScreens.js";
import { AdminScreen, SchedulesScreen } from "./screens/AutomationScreens.js";
import { AttendanceScreen, DiscussionsScreen, PresentationsScreen } from "./screens/CollaborationScreens.js";

export interface AppProps {
  home: string;
  /** How the status bar names the hub. */
  hubLabel: string;
  initialScreen?: Screen;
}

/** The status bar's keys for a screen, from the keymap (the help is generated from it too). */
function hintFor(screen: Screen): string {
  switch (screen.name) {
    case "fleet":
      return hintLine(["down", "open", "newChat", "addWorker", "search", "goTo", "help", "quit"]);
    case "chat":
      return hintLine(["send", "newline", "back", "pageDown", "help"]);
    case "workers":
      return hintLine(["down", "startWorker", "stopWorker", "restartWorker", "workerLogs", "addWorker", "back"]);
    case "machines":
    case "admin":
      return hintLine(["down", "goTo", "back"]);
    case "checklists":
      return hintLine(["down", "open", "newChecklist", "back"]);
    case "checklist":
      return hintLine(["down", "tick", "addItem", "cancel"]);
    case "logs":
      return hintLine(["pageDown", "cancel"]);
    case "diff":
      return hintLine(["pageDown", "nextFile", "previousFile", "cancel"]);
    case "output":
      return hintLine(["lineDown", "top", "bottom", "leavePager"]);
    case "attendance":
      return screen.key ? hintLine(["markPresent", "markRemote", "markAbsent", "cancel"]) : hintLine(["down", "open", "markUnderKey", "back"]);
    case "discussions":
      return screen.key ? hintLine(["writePost", "conclude", "reopen", "cancel"]) : hintLine(["down", "open", "openDiscussion", "back"]);
    case "presentations":
      return screen.id ? hintLine(["nextSlide", "previousSlide", "endPresentation", "cancel"]) : hintLine(["down", "open", "back"]);
    case "schedules":
      return screen.id ? hintLine(["cancel"]) : hintLine(["down", "open", "newSchedule", "pauseSchedule", "back"]);
  }
}

/** The user's offset from UTC, so "today" in the status bar is their day (api.usage.report's days). */
const UTC_OFFSET_MINUTES = -new Date().getTimezoneOffset();
const TODAY_USAGE = { by: "day", since: "1d", utcOffsetMinutes: UTC_OFFSET_MINUTES } as const;

/** Today's key among the report's days (YYYY-MM-DD in the user's time zone). */
function todayKey(): string {
  return new Date(Date.now() + UTC_OFFSET_MINUTES * 60_000).toISOString().slice(0, 10);
}

/** Rows a dialog takes under a chat's transcript. */
const DIALOG_ROWS = 14;

export function App({ home, hubLabel, initialScreen }: AppProps) {
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const connection = useConnectionState();
  const whoami = useQuery(api.auth.whoami, {});
  const pending = useQuery(api.chat.pending, {});
  const usage = useQuery(api.usage.report, TODAY_USAGE);
  const spentToday = usage.data?.rows.find((row) => row.key === todayKey())?.cost ?? 0;
  const [screen, setScreen] = useState<Screen>(initialScreen ?? { name: "fleet" });
  const [dialog, setDialog] = useState<DialogSpec | null>(null);
  const [notice, setNotice] = useState<{ text: string; error: boolean } | null>(null);
  const [fleet, setFleet] = useState<FleetSelection>({ selectedId: null, collapsed: new Set() });
  const [models, setModels] = useState<Record<string, string | null>>({});
  // Written on every key, read when a chat opens: a ref, so typing re-renders only the chat.
  const drafts = useRef(new Map<string, Edit>()).current;
  const noticeTimer = useRef<NodeJS.Timeout | undefined>(undefined);

  const chats = useQuery(api.chat.list, {});
  const unread = useAttention(chats.data, pending.data, screen.name === "chat" ? screen.chatId : null);
  const go = useCallback((next: Screen) => setScreen(next), []);
  const notify = useCallback((text: string, error = false) => {
    clearTimeout(noticeTimer.current);
    setNotice({ text, error });
    noticeTimer.current = setTimeout(() => setNotice(null), error ? 8000 : 4000);
  }, []);
  useEffect(() => () => clearTimeout(noticeTimer.current), []);

  const navigation = useMemo<Navigation>(
    () => ({
      screen,
      go,
      dialog,
      open: setDialog,
      close: () => setDialog(null),
      notify,
      fleet,
      setFleet,
      unread,
      drafts,
      modelFor: (chatId) => models[chatId] ?? null,
      setModel: (chatId, model) => setModels((m) => ({ ...m, [chatId]: model })),
      quit: () => exit(),
      home,
    }),
    [screen, go, dialog, notify, fleet, unread, drafts, models, exit, home],
  );

  useKeys((event) => {
    if (isCommand("forceQuit", event)) exit();
    else if (isCommand("help", event)) setDialog({ kind: "help" });
    else if (isCommand("quit", event) && screen.name !== "chat" && screen.name !== "logs" && screen.name !== "output") exit();
    else return false;
    return true;
  }, PRIORITY.global);

  const me = whoami.data?.user ?? null;
  // The frame is one row shorter than the terminal: Ink clears the whole terminal (scrollback
  // included) when a frame fills it, and the cursor needs a row to rest on.
  const frameRows = Math.max(8, rows - 1);
  const chrome = 1 + (connection.status === "open" ? 0 : 1) + (notice ? 1 : 0);
  const bodyRows = Math.max(4, frameRows - chrome);
  // The help takes the whole body; other dialogs sit under a chat's transcript, or replace other screens.
  const fullDialog = dialog?.kind === "help" || (dialog !== null && screen.name !== "chat");
  const dialogRows = dialog && !fullDialog ? DIALOG_ROWS : 0;
  const body = (() => {
    switch (screen.name) {
      case "fleet":
        return <FleetScreen height={bodyRows} width={columns} />;
      case "chat":
        return <ChatScreen key={screen.chatId} chatId={screen.chatId} at={screen.at} width={columns} rows={Math.max(4, bodyRows - dialogRows)} />;
      case "output":
        return <OutputScreen chatId={screen.chatId} messageId={screen.messageId} partId={screen.partId} rows={bodyRows} width={columns} />;
      case "workers":
        return <WorkersScreen width={columns} />;
      case "machines":
        return <MachinesScreen width={columns} />;
      case "checklists":
        return <ChecklistsScreen width={columns} />;
      case "checklist":
        return <ChecklistScreen checklistKey={screen.key} width={columns} />;
      case "diff":
        return <DiffScreen key={screen.chatId} chatId={screen.chatId} rows={bodyRows} width={columns} />;
      case "logs":
        return <LogsScreen worker={screen.worker} back={screen.back} rows={bodyRows} width={columns} />;
      case "attendance":
        return <AttendanceScreen attendanceKey={screen.key} width={columns} />;
      case "discussions":
        return <DiscussionsScreen discussionKey={screen.key} width={columns} rows={bodyRows} />;
      case "presentations":
        return <PresentationsScreen id={screen.id} width={columns} rows={bodyRows} />;
      case "schedules":
        return <SchedulesScreen id={screen.id} width={columns} />;
      case "admin":
        return <AdminScreen width={columns} />;
    }
  })();
  return (
    <NavigationProvider value={navigation}>
      <Box flexDirection="column" width={columns} height={frameRows} overflow="hidden">
        <ConnectionBanner state={connection} />
        <Box flexDirection="column" height={bodyRows} overflow="hidden">
          {fullDialog ? null : body}
          {dialog ? <DialogLayer dialog={dialog} width={columns} rows={fullDialog ? bodyRows : DIALOG_ROWS} /> : null}
        </Box>
        <Notice text={notice?.text ?? null} error={notice?.error} />
        <StatusBar
          userName={me?.name ?? null}
          admin={me?.level === "system_admin"}
          hub={hubLabel}
          connection={connection}
          waiting={pending.data?.length ?? 0}
          spentToday={spentToday}
          hint={hintFor(screen)}
          width={columns}
        />
      </Box>
    </NavigationProvider>
  );
}
