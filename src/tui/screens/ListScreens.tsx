// The table screens reachable from the menu (g): workers with their actions, and machines.
import { Box, Text } from "ink";
import { tint } from "../theme.js";
import { sanitizeInline } from "../../terminal/sanitize.js";
import React, { useState } from "react";
import { api } from "../../protocol/api/index.js";
import { RUN_STATE_COLOR } from "../components/Sidebar.js";
import { useClient, useQuery } from "../hooks/client.js";
import { useListKeys } from "../hooks/listKeys.js";
import { useWorkerAction } from "../hooks/workerAction.js";
import { PRIORITY, useKeys } from "../keys/dispatcher.js";
import { isCommand } from "../keys/keymap.js";
import { useNavigation } from "../navigation.js";
import { truncate } from "../render/lines.js";

function uptime(startedAt: number | null): string {
  if (startedAt === null) return "-";
  const s = Math.round((Date.now() - startedAt) / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
}

export function WorkersScreen({ width }: { width: number }) {
  const nav = useNavigation();
  const workers = useQuery(api.workers.list, {}).data ?? [];
  const workerAction = useWorkerAction();
  const index = useListKeys(workers.length, (i, event) => {
    const w = workers[i];
    if (!w) return false;
    if (isCommand("startWorker", event) || isCommand("stopWorker", event) || isCommand("restartWorker", event)) workerAction(w, event);
    else if (isCommand("workerLogs", event) || isCommand("open", event)) nav.go({ name: "logs", worker: w.id, back: { name: "workers" } });
    else if (isCommand("addWorker", event)) nav.open({ kind: "addWorker" });
    else return false;
    return true;
  });
  return (
    <Box flexDirection="column" width={width}>
      <Text bold>Workers</Text>
      <Text dimColor>
        {"NAME".padEnd(16)} {"MACHINE".padEnd(12)} {"STATE".padEnd(9)} {"PID".padEnd(8)} {"UP".padEnd(6)} {"RESTARTS".padEnd(8)} DIRECTORY
      </Text>
      {workers.length === 0 ? <Text dimColor>no workers; press a to add one</Text> : null}
      {workers.map((w, i) => (
        <Box key={w.id} flexDirection="column">
          <Text inverse={i === index} wrap="truncate-end">
            {truncate(w.name, 16).padEnd(16)} {truncate(w.machineName, 12).padEnd(12)}{" "}
            <Text color={tint(RUN_STATE_COLOR[w.runState])}>{w.runState.padEnd(9)}</Text> {String(w.pid ?? "-").padEnd(8)} {uptime(w.startedAt).padEnd(6)}{" "}
            {String(w.restartCount).padEnd(8)} {sanitizeInline(w.directory)}
          </Text>
          {w.reason && (w.runState === "error" || w.runState === "starting") ? (
            <Text dimColor wrap="truncate-end">
              {" "}
              ↳ {sanitizeInline(w.reason.split("\n")[0] ?? "")}
            </Text>
          ) : null}
        </Box>
      ))}
    </Box>
  );
}

export function MachinesScreen({ width }: { width: number }) {
  const machines = useQuery(api.machines.list, {}).data ?? [];
  const index = useListKeys(machines.length, () => false);
  return (
    <Box flexDirection="column" width={width}>
      <Text bold>Machines</Text>
      {machines.map((m, i) => (
        <Text key={m.id} inverse={i === index} wrap="truncate-end">
          {m.online ? <Text color={tint("green")}>● online </Text> : <Text color={tint("gray")}>○ offline</Text>} {sanitizeInline(m.name)}
          {m.isLocal ? " (this machine)" : ""}{" "}
          <Text dimColor>
            {sanitizeInline([m.hostname, m.platform, m.arch].filter(Boolean).join(" · "))} · {m.workers.total} workers, {m.workers.running} running,{" "}
            {m.workers.error} in error
          </Text>
        </Text>
      ))}
    </Box>
  );
}

/** A worker's OpenCode output, followed live (polled every second). */
export function LogsScreen({
  worker,
  back,
  rows,
  width,
}: {
  worker: string;
  back: Parameters<ReturnType<typeof useNavigation>["go"]>[0];
  rows: number;
  width: number;
}) {
  const nav = useNavigation();
  const client = useClient();
  const [text, setText] = useState("");
  /** Lines scrolled up from the end; 0 follows the log as it grows. */
  const [scroll, setScroll] = useState(0);
  const name = useQuery(api.workers.list, {}).data?.find((w) => w.id === worker)?.name ?? worker;
  React.useEffect(() => {
    let stopped = false;
    const read = () =>
      client.call(api.workers.readLog, { worker, maxBytes: 64 * 1024 }).then(
        (slice) => !stopped && setText(slice.text),
        (err: Error) => !stopped && setText(`(cannot read the log: ${err.message})`),
      );
    void read();
    const timer = setInterval(read, 1000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [client, worker]);
  useKeys((event) => {
    if (isCommand("back", event) || isCommand("cancel", event) || isCommand("quit", event)) nav.go(back);
    else if (isCommand("pageUp", event)) setScroll((s) => s + page);
    else if (isCommand("pageDown", event)) setScroll((s) => Math.max(0, s - page));
    else if (isCommand("wheelUp", event)) setScroll((s) => s + 3);
    else if (isCommand("wheelDown", event)) setScroll((s) => Math.max(0, s - 3));
    else return false;
    return true;
  }, PRIORITY.screen);
  const all = text.replace(/\n$/, "").split("\n");
  const height = Math.max(1, rows - 2);
  const page = Math.max(1, height - 1);
  const below = Math.min(scroll, Math.max(0, all.length - height));
  const lines = all.slice(Math.max(0, all.length - below - height), all.length - below);
  return (
    <Box flexDirection="column" width={width}>
      <Text bold wrap="truncate-end">
        Logs of {sanitizeInline(name)} <Text dimColor>{below > 0 ? `(${below} newer lines below · PgDn)` : "(live)"}</Text>
      </Text>
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate-end" dimColor={line.startsWith("--- ocfleet")}>
          {sanitizeInline(line) || " "}
        </Text>
      ))}
    </Box>
  );
}
