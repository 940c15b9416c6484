// The home screen: the fleet tree on the left, and on the right what is selected: a chat's
// latest lines (live, streaming included), a worker's state, or a machine's.
import { Box, Text } from "ink";
import { tint } from "../theme.js";
import { sanitizeInline } from "../../terminal/sanitize.js";
import { turnActivity } from "../../terminal/format.js";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, type MachineView, type WorkerView } from "../../protocol/api/index.js";
import { Lines } from "../components/Lines.js";
import { RequestPrompt, requestPromptHeight } from "../components/RequestPrompt.js";
import { buildTree, RUN_STATE_COLOR, Sidebar, type TreeItem, worktreeLabel } from "../components/Sidebar.js";
import { useCall } from "../hooks/call.js";
import { useQuery } from "../hooks/client.js";
import { PREVIEW_MESSAGES, useRecentMessages } from "../hooks/messages.js";
import { useWorkerAction } from "../hooks/workerAction.js";
import { PRIORITY, useKeys } from "../keys/dispatcher.js";
import { hintLine, isCommand } from "../keys/keymap.js";
import { useNavigation } from "../navigation.js";
import { type Block, splitTranscript } from "../render/blocks.js";
import { LineCache, transcriptWindow } from "../render/window.js";
import { cutLine } from "../render/lines.js";
import { useHighlighterReady } from "../hooks/highlighter.js";
import { WHEEL_ROWS } from "./OutputScreen.js";

const SIDEBAR_WIDTH = 36;

function ago(at: number | null): string {
  if (at === null) return "-";
  const s = Math.max(0, Math.round((Date.now() - at) / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function WorkerDetails({ worker }: { worker: WorkerView }) {
  return (
    <Box flexDirection="column">
      <Text bold>{sanitizeInline(worker.name)}</Text>
      <Text>
        state: <Text color={tint(RUN_STATE_COLOR[worker.runState])}>{worker.runState}</Text>
        {worker.reason && worker.runState !== "idle" && worker.runState !== "active" ? (
          <Text dimColor> ({sanitizeInline(worker.reason.split("\n")[0] ?? "")})</Text>
        ) : null}
      </Text>
      <Text wrap="truncate-middle">directory: {sanitizeInline(worker.directory)}</Text>
      <Text>machine: {sanitizeInline(worker.machineName)}</Text>
      <Text>
        pid: {worker.pid ?? "-"} · up {worker.startedAt ? ago(worker.startedAt) : "-"} · restarts {worker.restartCount}
      </Text>
      <Text>OpenCode: {sanitizeInline(worker.opencodeVersion ?? "?")}</Text>
      <Text dimColor>
        {"\n"}
        {hintLine(["newChat", "startWorker", "stopWorker", "restartWorker", "workerLogs"])}
      </Text>
    </Box>
  );
}

function MachineDetails({ machine }: { machine: MachineView }) {
  return (
    <Box flexDirection="column">
      <Text bold>
        {sanitizeInline(machine.name)}
        {machine.isLocal ? " (this machine)" : ""}
      </Text>
      <Text>
        status: {machine.online ? <Text color={tint("green")}>online</Text> : <Text color={tint("gray")}>offline</Text>} · approval {machine.approval}
      </Text>
      <Text>
        host: {sanitizeInline(machine.hostname)} · {sanitizeInline([machine.platform, machine.release, machine.arch].filter(Boolean).join(" "))}
      </Text>
      <Text>last heartbeat: {ago(machine.lastHeartbeatAt)} ago</Text>
      <Text>
        workers: {machine.workers.total} ({machine.workers.running} running, {machine.workers.active} active, {machine.workers.error} error)
      </Text>
      <Text dimColor>
        {"\n"}
        {hintLine(["addWorker"])} on this machine
      </Text>
    </Box>
  );
}

/** A chat's latest lines, live, scrolled `scroll` rows up from the end; a pending request is shown and answered here (y / a / n / a number). */
function ChatPreview({
  chatId,
  height,
  width,
  scroll,
  onScrolled,
}: {
  chatId: string;
  height: number;
  width: number;
  scroll: number;
  onScrolled(below: number): void;
}) {
  const nav = useNavigation();
  const call = useCall();
  const chat = useQuery(api.chat.get, { chat: chatId });
  const messages = useRecentMessages(chatId, PREVIEW_MESSAGES);
  const stream = useQuery(api.chat.stream, { chat: chatId });
  const cache = useRef(new LineCache());
  const c = chat.data;
  const request = c?.requests[0] ?? null;
  const { all } = useMemo(
    () => splitTranscript(messages.data ?? [], stream.data ?? null, { showReasoning: false, showToolOutput: false }, messages.earlier ? chatId : undefined),
    [messages.data, messages.earlier, stream.data, chatId],
  );
  const room = Math.max(1, height - 1 - (request ? requestPromptHeight(request, height - 1, width) : 0));
  const linesOf = (block: Block) => cache.current.linesOf(block, width, "preview");
  const whole = transcriptWindow(all, room, scroll, linesOf);
  // Scrolled up, the last row says what is below.
  const view = whole.below > 0 ? transcriptWindow(all, room - 1, scroll, linesOf) : whole;
  useHighlighterReady();
  // How far it really is scrolled (the end of the transcript caps it), so PgDn starts from there.
  useEffect(() => onScrolled(view.below), [view.below, onScrolled]);
  const activity = c ? turnActivity(c) : null;
  const shown = view.below > 0 ? [...view.lines, cutLine(`↓ ${view.below} more lines below · PgDn`, width, { dim: true })] : view.lines;
  return (
    <Box flexDirection="column" height={height}>
      <Text bold wrap="truncate-end">
        {sanitizeInline(c?.title ?? "…")}{" "}
        <Text dimColor>
          {c ? `· ${sanitizeInline(c.workerName)}${c.worktree ? ` · ${worktreeLabel(c)}` : ""} · ${c.state}${activity ? ` · ${activity}` : ""}` : ""}
        </Text>
      </Text>
      <Lines lines={shown} />
      {request ? (
        <RequestPrompt
          request={request}
          width={width}
          room={height - 1}
          active={!nav.dialog}
          exclusive={false}
          onPermit={(reply) => void call(api.chat.permit, { request: request.id, reply }, reply === "reject" ? "rejected" : `allowed (${reply})`)}
          onAnswer={(answers) =>
            void call(api.chat.answer, answers ? { request: request.id, answers } : { request: request.id, reject: true }, answers ? "answered" : "dismissed")
          }
        />
      ) : null}
    </Box>
  );
}

export function FleetScreen({ height, width }: { height: number; width: number }) {
  const nav = useNavigation();
  const machines = useQuery(api.machines.list, {});
  const workers = useQuery(api.workers.list, {});
  const chats = useQuery(api.chat.list, {});
  const items = useMemo(
    () => buildTree(machines.data ?? [], workers.data ?? [], chats.data ?? [], nav.fleet.collapsed),
    [machines.data, workers.data, chats.data, nav.fleet.collapsed],
  );
  // Nothing chosen yet (or the chosen item is gone) means the first item. This is derived at
  // render time, never written back by an effect: an effect that ran after a key arrived
  // would undo the move that key made.
  const selectedIndex = Math.max(
    0,
    items.findIndex((i) => i.id === nav.fleet.selectedId),
  );
  const selected: TreeItem | undefined = items[selectedIndex];

  const workerOf = (item: TreeItem | undefined): WorkerView | undefined =>
    item?.kind === "worker" ? item.worker : item?.kind === "chat" ? workers.data?.find((w) => w.id === item.chat.workerId) : undefined;

  const call = useCall();
  const workerAction = useWorkerAction();
  /** The details pane's scroll: rows up from the end of the selected chat, back to 0 when the selection changes. */
  const [preview, setPreview] = useState({ id: "", scroll: 0, below: 0 });
  const previewScroll = preview.id === selected?.id ? preview.scroll : 0;
  const scrollPreview = (delta: number) =>
    setPreview((p) => {
      const id = selected?.id ?? "";
      const from = p.id === id ? Math.min(p.scroll, p.below) : 0;
      return { id, scroll: Math.max(0, from + delta), below: p.id === id ? p.below : 0 };
    });
  const onScrolled = useCallback((below: number) => setPreview((p) => (p.below === below ? p : { ...p, below })), []);

  useKeys((event) => {
    // From the selection as it is now, not as it was drawn: two keys may come before one frame.
    const move = (delta: number) =>
      nav.setFleet((f) => {
        const at = Math.max(
          0,
          items.findIndex((i) => i.id === f.selectedId),
        );
        const next = items[Math.max(0, Math.min(items.length - 1, at + delta))];
        return next ? { ...f, selectedId: next.id } : f;
      });
    if (isCommand("up", event)) move(-1);
    else if (isCommand("down", event)) move(1);
    else if (isCommand("open", event)) {
      if (selected?.kind === "chat") nav.go({ name: "chat", chatId: selected.id });
      else if (selected)
        nav.setFleet((f) => {
          const collapsed = new Set(f.collapsed);
          if (collapsed.has(selected.id)) collapsed.delete(selected.id);
          else collapsed.add(selected.id);
          return { ...f, collapsed };
        });
    } else if (isCommand("newChat", event)) {
      const worker = workerOf(selected);
      if (!worker) nav.notify("select a worker (or one of its chats) first", true);
      else void call(api.chat.create, { worker: worker.id }).then((chat) => chat && nav.go({ name: "chat", chatId: chat.id }));
    } else if (isCommand("addWorker", event)) {
      nav.open({ kind: "addWorker", machine: selected?.kind === "machine" ? selected.id : workerOf(selected)?.machineId });
    } else if (isCommand("startWorker", event) || isCommand("stopWorker", event) || isCommand("restartWorker", event)) {
      const worker = workerOf(selected);
      if (!worker) nav.notify("select a worker first", true);
      else workerAction(worker, event);
    } else if (isCommand("workerLogs", event)) {
      const worker = workerOf(selected);
      if (worker) nav.go({ name: "logs", worker: worker.id, back: { name: "fleet" } });
    } else if (isCommand("pageUp", event)) scrollPreview(previewPage);
    else if (isCommand("pageDown", event)) scrollPreview(-previewPage);
    else if (isCommand("wheelUp", event)) scrollPreview(WHEEL_ROWS);
    else if (isCommand("wheelDown", event)) scrollPreview(-WHEEL_ROWS);
    else if (isCommand("search", event)) nav.open({ kind: "search" });
    else if (isCommand("goTo", event)) nav.open({ kind: "goto" });
    else if (isCommand("signIn", event)) nav.open({ kind: "signIn" });
    else return false;
    return true;
  }, PRIORITY.screen);

  // Below ~90 columns the tree and the details stack in one column instead of squeezing the details.
  const narrow = width < 90;
  const treeHeight = narrow ? Math.max(5, Math.min(items.length + 2, Math.floor(height * 0.4))) : height;
  const previewHeight = narrow ? height - treeHeight : height;
  const previewWidth = narrow ? width - 4 : Math.max(20, width - SIDEBAR_WIDTH - 4);
  const loading = machines.loading && !machines.data;
  const previewPage = Math.max(1, previewHeight - 4);
  return (
    <Box height={height} flexDirection={narrow ? "column" : "row"}>
      <Sidebar items={items} selectedId={selected?.id ?? null} height={treeHeight} width={narrow ? width : SIDEBAR_WIDTH} unread={nav.unread} focused />
      <Box borderStyle="round" borderColor={tint("gray")} flexDirection="column" width={previewWidth + 4} height={previewHeight} paddingX={1}>
        {loading ? <Text dimColor>loading the fleet…</Text> : null}
        {!loading && items.length > 0 && workers.data?.length === 0 ? (
          <Text>
            No workers yet. Press <Text bold>a</Text> to add one: an OpenCode server for a directory.
          </Text>
        ) : null}
        {selected?.kind === "chat" ? (
          <ChatPreview key={selected.id} chatId={selected.id} height={previewHeight - 2} width={previewWidth} scroll={previewScroll} onScrolled={onScrolled} />
        ) : null}
        {selected?.kind === "worker" ? <WorkerDetails worker={selected.worker} /> : null}
        {selected?.kind === "machine" ? <MachineDetails machine={selected.machine} /> : null}
      </Box>
    </Box>
  );
}
