// The fleet as a tree: machines → workers → chats, each with a live status badge (a worker and a chat: its cost; a chat: its branch).
import { Box, Text } from "ink";
import { tint } from "../theme.js";
import type { ChatSummary, MachineView, WorkerView } from "../../protocol/api/index.js";
import { textWidth, truncate } from "../render/lines.js";
import { sanitizeInline } from "../../terminal/sanitize.js";
import { formatCost } from "./StatusBar.js";

export type TreeItem =
  | { kind: "machine"; id: string; machine: MachineView }
  /** `cost`: what all its chats cost so far (archived ones too: the money was spent). */
  | { kind: "worker"; id: string; worker: WorkerView; cost: number }
  | { kind: "chat"; id: string; chat: ChatSummary };

/** The visible rows of the tree, in order; collapsed machines and workers hide their children. */
export function buildTree(machines: MachineView[], workers: WorkerView[], chats: ChatSummary[], collapsed: ReadonlySet<string>): TreeItem[] {
  const items: TreeItem[] = [];
  for (const machine of machines) {
    items.push({ kind: "machine", id: machine.id, machine });
    if (collapsed.has(machine.id)) continue;
    for (const worker of workers.filter((w) => w.machineId === machine.id)) {
      const cost = chats.reduce((sum, c) => (c.workerId === worker.id ? sum + c.cost : sum), 0);
      items.push({ kind: "worker", id: worker.id, worker, cost });
      if (collapsed.has(worker.id)) continue;
      for (const chat of chats.filter((c) => c.workerId === worker.id && !c.archived)) items.push({ kind: "chat", id: chat.id, chat });
    }
  }
  return items;
}

/** A worktree chat's branch, or that its worktree is gone; "" for a chat in the worker's checkout. */
export function worktreeLabel(chat: Pick<ChatSummary, "worktree">): string {
  if (!chat.worktree) return "";
  return chat.worktree.removed ? "(worktree removed)" : `⎇ ${sanitizeInline(chat.worktree.branch)}`;
}

export const RUN_STATE_COLOR: Record<WorkerView["runState"], string> = {
  starting: "yellow",
  idle: "green",
  active: "cyan",
  offline: "gray",
  error: "red",
};

function Row({ item, selected, unread, width }: { item: TreeItem; selected: boolean; unread: boolean; width: number }) {
  if (item.kind === "machine") {
    const m = item.machine;
    const badge =
      m.approval !== "approved" ? (
        <Text color={tint("yellow")}>◐ {m.approval}</Text>
      ) : m.online ? (
        <Text color={tint("green")}>●</Text>
      ) : (
        <Text color={tint("gray")}>○ offline</Text>
      );
    return (
      <Text inverse={selected} wrap="truncate-end">
        {badge} <Text bold>{truncate(m.name, width - 14)}</Text>
        {m.isLocal ? <Text dimColor> (here)</Text> : null}
      </Text>
    );
  }
  if (item.kind === "worker") {
    const w = item.worker;
    const cost = item.cost > 0 ? ` ${formatCost(item.cost)}` : "";
    return (
      <Text inverse={selected} wrap="truncate-end">
        {"  "}
        <Text color={tint(RUN_STATE_COLOR[w.runState])}>■</Text> {truncate(w.name, Math.max(4, width - 14 - textWidth(cost)))}{" "}
        <Text color={tint(RUN_STATE_COLOR[w.runState])}>{w.runState}</Text>
        {cost ? <Text color={tint("green")}>{cost}</Text> : null}
      </Text>
    );
  }
  const c = item.chat;
  const branch = worktreeLabel(c) ? ` ${worktreeLabel(c)}` : "";
  const cost = c.cost > 0 ? ` ${formatCost(c.cost)}` : "";
  const badge = c.pendingRequests > 0 ? <Text color={tint("yellow")}> ⏸{c.pendingRequests}</Text> : c.busy ? <Text color={tint("cyan")}> ⏵</Text> : null;
  return (
    <Text inverse={selected} wrap="truncate-end">
      {unread ? (
        <Text bold color={tint("cyan")}>
          {"  ● "}
        </Text>
      ) : (
        "    "
      )}
      <Text dimColor={c.state === "inactive" && !unread} bold={unread}>
        {truncate(c.title, Math.max(4, width - 8 - (badge ? 3 : 0) - textWidth(cost) - Math.min(textWidth(branch), Math.floor(width / 2))))}
      </Text>
      {badge}
      {cost ? <Text color={tint("green")}>{cost}</Text> : null}
      {branch ? <Text dimColor>{truncate(branch, Math.max(0, Math.floor(width / 2)))}</Text> : null}
    </Text>
  );
}

export function Sidebar({
  items,
  selectedId,
  height,
  width,
  focused,
  unread = new Set(),
}: {
  unread?: ReadonlySet<string>;
  items: TreeItem[];
  selectedId: string | null;
  height: number;
  width: number;
  focused: boolean;
}) {
  const index = Math.max(
    0,
    items.findIndex((i) => i.id === selectedId),
  );
  const visible = Math.max(1, height - 2);
  const first = Math.max(0, Math.min(index - Math.floor(visible / 2), items.length - visible));
  return (
    <Box borderStyle="round" borderColor={tint(focused ? "cyan" : "gray")} flexDirection="column" width={width} height={height}>
      {items.length === 0 ? <Text dimColor>no machines yet</Text> : null}
      {items.slice(first, first + visible).map((item) => (
        <Row key={item.id} item={item} selected={item.id === selectedId} unread={unread.has(item.id)} width={width - 2} />
      ))}
    </Box>
  );
}
