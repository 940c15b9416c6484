// The bottom line: the keys of this screen first (what a person looks for), then, as room allows,
// what waits for you, the connection, who you are and which hub.
import { Box, Text } from "ink";
import { tint } from "../theme.js";
import type { ConnectionState } from "../../client/client.js";
import { sanitizeInline } from "../../terminal/sanitize.js";
import { textWidth, truncate } from "../render/lines.js";

export interface StatusBarProps {
  userName: string | null;
  admin: boolean;
  hub: string;
  connection: ConnectionState;
  waiting: number;
  hint: string;
  width: number;
}

export function StatusBar({ userName, admin, hub, connection, waiting, hint, width }: StatusBarProps) {
  const link =
    connection.status === "open"
      ? { text: "● connected", color: "green" }
      : connection.status === "reconnecting"
        ? { text: `◌ reconnecting${connection.attempt > 0 ? ` (attempt ${connection.attempt + 1})` : ""}`, color: "yellow" }
        : { text: "○ disconnected", color: "red" };
  const who = userName ? `${sanitizeInline(userName)}${admin ? " (admin)" : ""}` : "not signed in";
  const waits = waiting > 0 ? `⏸ ${waiting} waiting` : "";
  // The right side gives up the hub, then the user, then the hint is cut; the connection always shows.
  const lead = waits ? `${waits} · ${link.text}` : link.text;
  const fixed = textWidth(" ocfleet  ") + 2;
  const shownHint = truncate(hint, Math.max(8, width - fixed - textWidth(lead)));
  const room = width - fixed - textWidth(shownHint);
  const right = [`${lead} · ${who} · ${truncate(hub, 28)}`, `${lead} · ${who}`, lead].find((candidate) => textWidth(candidate) <= room) ?? lead;
  const linkAt = right.indexOf(link.text);
  const gap = Math.max(1, room - textWidth(right) + 1);
  // One Text that truncates: the status bar must never wrap onto a second row.
  return (
    <Box width={width} height={1}>
      <Text wrap="truncate-end">
        <Text inverse> ocfleet </Text> <Text dimColor>{shownHint}</Text>
        {" ".repeat(gap)}
        {waits ? <Text color={tint("yellow")}>{right.slice(0, linkAt)}</Text> : null}
        <Text color={tint(link.color)}>{link.text}</Text>
        <Text>{right.slice(linkAt + link.text.length)}</Text>
      </Text>
    </Box>
  );
}
