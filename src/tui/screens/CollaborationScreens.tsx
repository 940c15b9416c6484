// Screens for the collaboration modules: attendance, discussions, and following a presentation.
import { Box, Text } from "ink";
import { tint } from "../theme.js";
import { sanitize, sanitizeInline } from "../../terminal/sanitize.js";
import { useEffect, useState } from "react";
import { SlideFollower } from "../../client/presentation.js";
import { api, type AttendanceStatus, type PresentationView } from "../../protocol/api/index.js";
import { Lines } from "../components/Lines.js";
import { useCall } from "../hooks/call.js";
import { useClient, useQuery } from "../hooks/client.js";
import { PRIORITY, useKeys } from "../keys/dispatcher.js";
import { isCommand } from "../keys/keymap.js";
import { useNavigation } from "../navigation.js";
import { markdownLines } from "../render/markdown.js";
import { useListKeys } from "../hooks/listKeys.js";

const STATUS_COLOR: Record<AttendanceStatus, string> = { present: "green", remote: "cyan", absent: "gray" };

function ago(at: number): string {
  const s = Math.max(0, Math.round((Date.now() - at) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.floor(s / 60)}m ago` : `${Math.floor(s / 3600)}h ago`;
}

export function AttendanceScreen({ attendanceKey, width }: { attendanceKey?: string; width: number }) {
  const nav = useNavigation();
  const client = useClient();
  const call = useCall();
  const sheets = useQuery(api.attendance.list, {}).data ?? [];
  const sheet = useQuery(api.attendance.get, attendanceKey ? { key: attendanceKey } : null).data;
  const mark = (status: AttendanceStatus) => attendanceKey && call(api.attendance.mark, { key: attendanceKey, status }, `marked ${status}`);
  const index = useListKeys(
    attendanceKey ? 0 : sheets.length,
    (i, event) => {
      if (!attendanceKey && isCommand("open", event) && sheets[i]) nav.go({ name: "attendance", key: sheets[i]!.key });
      else if (attendanceKey && isCommand("markPresent", event)) void mark("present");
      else if (attendanceKey && isCommand("markRemote", event)) void mark("remote");
      else if (attendanceKey && isCommand("markAbsent", event)) void mark("absent");
      else if (!attendanceKey && isCommand("markUnderKey", event))
        nav.open({
          kind: "prompt",
          title: "Mark yourself present under a key (a meeting, a day)",
          label: "Key:",
          submit: (key) => client.call(api.attendance.mark, { key, status: "present" }).then(() => nav.go({ name: "attendance", key })),
        });
      else return false;
      return true;
    },
    attendanceKey ? { name: "attendance" } : { name: "fleet" },
  );
  if (attendanceKey) {
    return (
      <Box flexDirection="column" width={width}>
        <Text bold>
          Attendance: {sanitizeInline(attendanceKey)}{" "}
          <Text dimColor>{sheet ? `${sheet.counts.present} present · ${sheet.counts.remote} remote · ${sheet.counts.absent} absent` : "(nobody yet)"}</Text>
        </Text>
        {(sheet?.entries ?? []).map((e) => (
          <Text key={e.userId} wrap="truncate-end">
            <Text color={tint(STATUS_COLOR[e.status])}>{e.status.padEnd(8)}</Text> {sanitizeInline(e.userName)}
            {e.reason ? <Text dimColor> — {sanitizeInline(e.reason)}</Text> : null} <Text dimColor>{ago(e.updatedAt)}</Text>
          </Text>
        ))}
      </Box>
    );
  }
  return (
    <Box flexDirection="column" width={width}>
      <Text bold>Attendance</Text>
      {sheets.length === 0 ? <Text dimColor>nothing recorded yet; m marks you present under a key</Text> : null}
      {sheets.map((s, i) => (
        <Text key={s.key} inverse={i === index} wrap="truncate-end">
          {sanitizeInline(s.key)}{" "}
          <Text dimColor>
            {s.counts.present} present · {s.counts.remote} remote · {s.counts.absent} absent · {ago(s.updatedAt)}
          </Text>
        </Text>
      ))}
    </Box>
  );
}

export function DiscussionsScreen({ discussionKey, width, rows }: { discussionKey?: string; width: number; rows: number }) {
  const nav = useNavigation();
  const client = useClient();
  const call = useCall();
  const all = useQuery(api.discussions.list, {}).data ?? [];
  const discussion = useQuery(api.discussions.get, discussionKey ? { key: discussionKey } : null).data;
  const index = useListKeys(
    discussionKey ? 0 : all.length,
    (i, event) => {
      if (!discussionKey && isCommand("open", event) && all[i]) nav.go({ name: "discussions", key: all[i]!.key });
      else if (!discussionKey && isCommand("openDiscussion", event))
        nav.open({
          kind: "prompt",
          title: "Open a discussion",
          label: "Key:",
          submit: (key) => client.call(api.discussions.open, { key }).then(() => nav.go({ name: "discussions", key })),
        });
      else if (discussionKey && isCommand("writePost", event))
        nav.open({
          kind: "prompt",
          title: `Post in ${discussionKey}`,
          label: "›",
          submit: (post) => client.call(api.discussions.post, { key: discussionKey, text: post }),
        });
      else if (discussionKey && isCommand("conclude", event))
        nav.open({
          kind: "prompt",
          title: `Conclude ${discussionKey} (owner or admin)`,
          label: "Conclusion:",
          submit: (conclusion) => client.call(api.discussions.conclude, { key: discussionKey, conclusion, tags: ["decision"] }),
        });
      else if (discussionKey && isCommand("reopen", event)) void call(api.discussions.reopen, { key: discussionKey }, "reopened");
      else return false;
      return true;
    },
    discussionKey ? { name: "discussions" } : { name: "fleet" },
  );
  if (discussionKey) {
    const lines = (discussion?.messages ?? []).slice(-Math.max(3, rows - 10));
    return (
      <Box flexDirection="column" width={width}>
        <Text bold>
          {sanitizeInline(discussion?.title ?? discussionKey)}{" "}
          <Text dimColor>
            {discussion ? `· ${sanitizeInline(discussion.ownerName)}'s · ${discussion.concluded ? "concluded" : "open"}` : "(no such discussion yet)"}
          </Text>
        </Text>
        {lines.map((m) => (
          <Text key={m.id} wrap="wrap">
            <Text color={tint("cyan")}>{sanitizeInline(m.authorName)}</Text> <Text dimColor>{ago(m.createdAt)}</Text> {sanitize(m.text)}
          </Text>
        ))}
        {(discussion?.conclusions ?? []).map((c, i) => (
          <Text key={i} color={tint("green")} wrap="wrap">
            ✔ {sanitizeInline(c.tags.map((t) => `[${t}]`).join(""))} {sanitize(c.text)} <Text dimColor>— {sanitizeInline(c.concludedBy)}</Text>
          </Text>
        ))}
      </Box>
    );
  }
  return (
    <Box flexDirection="column" width={width}>
      <Text bold>Discussions</Text>
      {all.length === 0 ? <Text dimColor>none yet; o opens one</Text> : null}
      {all.map((d, i) => (
        <Text key={d.key} inverse={i === index} wrap="truncate-end">
          {sanitizeInline(d.title ?? d.key)}{" "}
          <Text dimColor>
            · {d.messageCount} messages · {d.concluded ? "concluded" : "open"} · {ago(d.updatedAt)}
          </Text>
        </Text>
      ))}
    </Box>
  );
}

/** Follows a presentation: the current slide, moving when the presenter moves, never backwards. */
function FollowPresentation({ id, width, rows }: { id: string; width: number; rows: number }) {
  const nav = useNavigation();
  const me = useQuery(api.auth.whoami, {}).data;
  const live = useQuery(api.presentations.get, { id }).data;
  // One follower per presentation: the parent keys this component by id.
  const [follower] = useState(() => new SlideFollower());
  const [shown, setShown] = useState<PresentationView | null>(null);
  useEffect(() => {
    if (live !== undefined && follower.accept(live)) setShown(follower.current);
  }, [live, follower]);
  const presenting = shown !== null && me?.user.id === shown.presenterId && shown.state === "running";
  const call = useCall();
  const notApplied = (r: { applied: boolean; reason: string | null }) => (!r.applied ? r.reason : null);
  useKeys((event) => {
    if (isCommand("back", event) || isCommand("cancel", event)) nav.go({ name: "presentations" });
    else if (presenting && isCommand("nextSlide", event)) void call(api.presentations.next, { id, at: Date.now() }, notApplied);
    else if (presenting && isCommand("previousSlide", event)) void call(api.presentations.prev, { id, at: Date.now() }, notApplied);
    else if (presenting && isCommand("endPresentation", event))
      nav.open({
        kind: "confirm",
        title: "End the presentation for everyone following it?",
        yes: () => call(api.presentations.stop, { id, at: Date.now() }, notApplied),
      });
    else return false;
    return true;
  }, PRIORITY.screen);
  if (!shown) return <Text dimColor>loading the presentation…</Text>;
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate-end">
        <Text bold>
          slide {shown.current}/{shown.slideCount}
          {shown.state === "stopped" ? " · ended" : ""}
        </Text>
        <Text dimColor>
          {" "}
          of “{sanitizeInline(shown.title)}”, presented by {sanitizeInline(shown.presenterName)}
        </Text>
      </Text>
      <Box borderStyle="round" borderColor={tint("magenta")} flexDirection="column" paddingX={1} width={width}>
        <Lines lines={markdownLines(shown.slide, width - 4).slice(0, Math.max(3, rows - 8))} />
      </Box>
      {presenting ? null : <Text dimColor>following the presenter</Text>}
    </Box>
  );
}

export function PresentationsScreen({ id, width, rows }: { id?: string; width: number; rows: number }) {
  const nav = useNavigation();
  const all = useQuery(api.presentations.list, {}).data ?? [];
  const index = useListKeys(id ? 0 : all.length, (i, event) => {
    if (!id && isCommand("open", event) && all[i]) nav.go({ name: "presentations", id: all[i]!.id });
    else return false;
    return true;
  });
  if (id) return <FollowPresentation key={id} id={id} width={width} rows={rows} />;
  return (
    <Box flexDirection="column" width={width}>
      <Text bold>Presentations</Text>
      {all.length === 0 ? <Text dimColor>none running; start one with: ocfleet present start slides.md</Text> : null}
      {all.map((p, i) => (
        <Text key={p.id} inverse={i === index} wrap="truncate-end">
          {sanitizeInline(p.title)}{" "}
          <Text dimColor>
            · {sanitizeInline(p.presenterName)} · slide {p.current}/{p.slideCount} · {p.state}
          </Text>
        </Text>
      ))}
    </Box>
  );
}
