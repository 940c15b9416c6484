// Timing chat deltas end to end: replies whose deltas carry "[i:t]" stamps (the fake model's
// "stream timed", or a simulated agent's), a watcher per chat that records how late each arrives,
// and the wait for a reply to end.
import type { FleetConnection } from "../../src/client/connection.js";
import { api, type MessageView } from "../../src/protocol/api/index.js";

export const textOf = (m: MessageView | null) => (m?.parts ?? []).map((p) => (p.kind === "text" ? p.text : "")).join("");

/** Receipt time minus the sender's stamp, for every "[i:t]" marker not seen before. */
export function collectLatencies(text: string, seen: Set<number>, into: number[]): void {
  const now = performance.now();
  for (const match of text.matchAll(/\[(\d+):([\d.]+)\]/g)) {
    const i = Number(match[1]);
    if (seen.has(i)) continue;
    seen.add(i);
    into.push(now - Number(match[2]));
  }
}

/** Resolves with the reply to `messageId` once it has ended. */
export function replyEnded(client: FleetConnection, chatId: string, messageId: string): Promise<MessageView> {
  return new Promise((resolve) => {
    const sub = client.subscribe(
      api.chat.messages,
      { chat: chatId },
      {
        onValue: (messages) => {
          const reply = messages.find((m) => m.replyTo === messageId && m.status !== "streaming" && m.status !== "sent");
          if (reply) queueMicrotask(() => sub.unsubscribe()), resolve(reply);
        },
      },
    );
  });
}

/** A chat whose replies stream "[i:t]" deltas, watched by one client that records how late each arrives. */
export class TimedChat {
  seen = new Set<number>();
  constructor(
    readonly id: string,
    watcher: FleetConnection,
    readonly latencies: number[],
  ) {
    watcher.subscribe(api.chat.stream, { chat: id }, { onValue: (m) => collectLatencies(textOf(m), this.seen, this.latencies) });
  }
}
