// The newest messages of a chat, for the screens that show its end. A chat a schedule has fed for
// a month holds thousands of messages: read whole, every change to it re-read them all (10,000
// messages: 128 ms of the daemon's time and a 5 MB frame per change) for rows no one scrolls to.
// So the chat screen and the fleet's preview ask for the newest ones only (`chat.messages` with
// `last`), and say at the top that older ones are left out; `ocfleet chat show` prints them all.
import { api, type MessageView } from "../../protocol/api/index.js";
import { useQuery } from "./client.js";

/** Messages the chat screen shows (OCFLEET_TUI_MESSAGES sets it); the preview shows fewer. */
export const CHAT_SCREEN_MESSAGES = Math.max(1, Number(process.env.OCFLEET_TUI_MESSAGES) || 500);
export const PREVIEW_MESSAGES = Math.min(CHAT_SCREEN_MESSAGES, 30);

export interface RecentMessages {
  data: MessageView[] | undefined;
  /** Older messages exist that were not read. */
  earlier: boolean;
}

/** The chat's newest `keep` messages (all of them when `keep` is null), and whether there are older ones. */
export function useRecentMessages(chatId: string, keep: number | null): RecentMessages {
  // One more than is kept, to learn whether there are older ones.
  const messages = useQuery(api.chat.messages, keep === null ? { chat: chatId } : { chat: chatId, last: keep + 1 });
  const data = messages.data;
  const earlier = keep !== null && data !== undefined && data.length > keep;
  return { data: earlier ? data.slice(1) : data, earlier };
}
