// The bottom line: the keys of this screen first (what a person looks for), then, as room allows,
// what waits for you, the connection, what today cost, who you are and which hub.
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
  /** USD its chats cost today (the user's day), 0 for none or no prices. */
  spentToday: number;
  hint: string;
  width: number;
}

/** A cost in USD: cents once it is a cent or more, else four decimals so a cheap model still shows. */
export function formatCost(usd: number): string {
  return usd >= 0.01 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(4)}`;
}

export function StatusBar({ userName, admin, hub, connection, waiting, spentToday, hint, width }: StatusBarProps) {
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
  const spent = spentToday > 0 ? `${lead} · ${formatCost(spentToday)} today` : lead;
  const right = [`${spent} · ${who} · ${truncate(hub, 28)}`, `${spent} · ${who}`, spent, lead].find((candidate) => textWidth(candidate) <= room) ?? lead;
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
