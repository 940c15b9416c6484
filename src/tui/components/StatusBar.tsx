// The bottom line: who you are, which hub, the connection, what waits for you, and the help key.
import { Box, Text } from "ink";
import type { ConnectionState } from "../../client/client.js";
import { truncate } from "../render/lines.js";

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
    connection.status === "open" ? (
      <Text color="green">● connected</Text>
    ) : connection.status === "reconnecting" ? (
      <Text color="yellow">◌ reconnecting{connection.attempt > 0 ? ` (attempt ${connection.attempt + 1})` : ""}</Text>
    ) : (
      <Text color="red">○ disconnected</Text>
    );
  const who = userName ? `${userName}${admin ? " (admin)" : ""}` : "not signed in";
  // One Text that truncates: the status bar must never wrap onto a second row.
  return (
    <Box width={width} height={1}>
      <Text wrap="truncate-end">
        <Text inverse> ocfleet </Text>
        <Text>
          {" "}
          {who} · {truncate(hub, 28)} ·{" "}
        </Text>
        {link}
        {waiting > 0 ? <Text color="yellow"> · ⏸ {waiting} waiting</Text> : null}
        <Text dimColor> · {hint}</Text>
      </Text>
    </Box>
  );
}
