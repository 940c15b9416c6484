// Screens for scheduled prompts and, for admins, users and the cleanup jobs.
import { Box, Text } from "ink";
import { tint } from "../theme.js";
import { sanitizeInline } from "../../terminal/sanitize.js";
import { api, type ScheduleRunStatus } from "../../protocol/api/index.js";
import { useCall } from "../hooks/call.js";
import { useQuery } from "../hooks/client.js";
import { isCommand } from "../keys/keymap.js";
import { useNavigation } from "../navigation.js";
import { useListKeys } from "../hooks/listKeys.js";

const RUN_COLOR: Record<ScheduleRunStatus, string> = { sent: "cyan", completed: "green", failed: "red", missed: "yellow", skipped: "gray" };

const when = (at: number | null) =>
  at === null ? "-" : new Date(at).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

export function SchedulesScreen({ id, width }: { id?: string; width: number }) {
  const nav = useNavigation();
  const call = useCall();
  const schedules = useQuery(api.schedules.list, {}).data ?? [];
  const runs = useQuery(api.schedules.runs, id ? { schedule: id, limit: 20 } : null).data ?? [];
  const index = useListKeys(
    id ? 0 : schedules.length,
    (i, event) => {
      const s = schedules[i];
      if (!id && isCommand("open", event) && s) nav.go({ name: "schedules", id: s.id });
      else if (!id && isCommand("newSchedule", event)) nav.open({ kind: "addSchedule" });
      else if (!id && s && isCommand("pauseSchedule", event))
        void call(s.paused ? api.schedules.resume : api.schedules.pause, { schedule: s.id }, (v) => `${v.name} ${v.paused ? "paused" : "resumed"}`);
      else return false;
      return true;
    },
    id ? { name: "schedules" } : { name: "fleet" },
  );
  if (id) {
    const schedule = schedules.find((s) => s.id === id);
    return (
      <Box flexDirection="column" width={width}>
        <Text bold>
          {sanitizeInline(schedule?.name ?? id)}{" "}
          <Text dimColor>{schedule ? sanitizeInline(`· ${schedule.cron} (${schedule.timezone}) · into ${schedule.chatTitle}`) : ""}</Text>
        </Text>
        {schedule ? <Text wrap="truncate-end">prompt: {sanitizeInline(schedule.prompt)}</Text> : null}
        {runs.length === 0 ? <Text dimColor>no runs yet; next {when(schedule?.nextRunAt ?? null)}</Text> : null}
        {runs.map((r) => (
          <Text key={r.id} wrap="truncate-end">
            {when(r.scheduledFor)} <Text color={tint(RUN_COLOR[r.status])}>{r.status.padEnd(9)}</Text>
            <Text dimColor>{sanitizeInline(r.reason ?? "")}</Text>
          </Text>
        ))}
      </Box>
    );
  }
  return (
    <Box flexDirection="column" width={width}>
      <Text bold>Scheduled prompts</Text>
      {schedules.length === 0 ? <Text dimColor>none yet; a adds one</Text> : null}
      {schedules.map((s, i) => (
        <Text key={s.id} inverse={i === index} wrap="truncate-end">
          {sanitizeInline(s.name)}{" "}
          <Text dimColor>
            · {sanitizeInline(s.cron)} · {sanitizeInline(s.workerName)} ·{" "}
          </Text>
          {s.paused ? <Text color={tint("yellow")}>paused</Text> : <Text>next {when(s.nextRunAt)}</Text>}
          {s.lastRun ? <Text color={tint(RUN_COLOR[s.lastRun.status])}> · last {s.lastRun.status}</Text> : null}
        </Text>
      ))}
    </Box>
  );
}

export function AdminScreen({ width }: { width: number }) {
  const users = useQuery(api.admin.users, {});
  const jobs = useQuery(api.admin.jobs, {});
  useListKeys(0, () => false);
  if (users.error) return <Text color={tint("red")}>{sanitizeInline(users.error.message)}</Text>;
  return (
    <Box flexDirection="column" width={width}>
      <Text bold>Users</Text>
      {(users.data ?? []).map((u) => (
        <Text key={u.id} wrap="truncate-end">
          {sanitizeInline(u.name).padEnd(24)} <Text color={tint(u.level === "system_admin" ? "magenta" : undefined)}>{u.level.padEnd(13)}</Text>
          <Text dimColor>
            {sanitizeInline(u.identities.map((i) => i.email ?? i.provider).join(", ")) || "anonymous"} · {u.activeSessions} session
            {u.activeSessions === 1 ? "" : "s"} · last seen {when(u.lastSeenAt)}
          </Text>
        </Text>
      ))}
      <Text bold>{"\n"}Cleanup jobs</Text>
      {(jobs.data ?? []).map((j) => (
        <Text key={j.job} wrap="truncate-end">
          {j.job.padEnd(24)}{" "}
          <Text dimColor>
            {j.description} · every {Math.round(j.everyMs / 60_000)} min · last {when(j.lastRun?.finishedAt ?? null)} · removed {j.removedRecently} lately
          </Text>
        </Text>
      ))}
      <Text dimColor>{"\n"}admin changes: ocfleet admin … (see ocfleet admin --help)</Text>
    </Box>
  );
}
