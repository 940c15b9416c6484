// A one-line banner: the daemon connection is gone (and being retried), or a passing notice.
import { Text } from "ink";
import { tint } from "../theme.js";
import { sanitizeInline } from "../../terminal/sanitize.js";
import type { ConnectionState } from "../../client/client.js";

export function ConnectionBanner({ state }: { state: ConnectionState }) {
  if (state.status === "open") return null;
  const why = state.lastError ? ` (${sanitizeInline(state.lastError.split("\n")[0] ?? "")})` : "";
  return (
    <Text color={tint("yellow")} wrap="truncate-end">
      ⚠ Lost the daemon{why}. Reconnecting{state.attempt > 0 ? `, attempt ${state.attempt + 1}` : ""}… your screens come back as they were.
    </Text>
  );
}

export function Notice({ text, error }: { text: string | null; error?: boolean }) {
  if (!text) return null;
  return (
    <Text color={tint(error ? "red" : "green")} wrap="truncate-end">
      {error ? "✗ " : "✓ "}
      {sanitizeInline(text)}
    </Text>
  );
}
