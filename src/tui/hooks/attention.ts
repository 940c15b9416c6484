// Attention: when a chat that is not on screen finishes a turn, fails, or starts waiting for a
// permission or an answer, the terminal is told (BEL by default; OSC 9, a desktop notification
// in terminals that show one, with OCFLEET_TUI_NOTIFY=osc9; nothing with =off), the chat is
// marked unread in the fleet tree until it is opened, and the window title counts what waits.
import { useStdout } from "ink";
import { useEffect, useRef, useState } from "react";
import type { ChatSummary, RequestView } from "../../protocol/api/index.js";
import { sanitizeInline } from "../../terminal/sanitize.js";

type NotifyStyle = "bell" | "osc9" | "off";

function notifyStyle(): NotifyStyle {
  const value = process.env.OCFLEET_TUI_NOTIFY;
  return value === "osc9" || value === "off" ? value : "bell";
}

/** What needs the user in one chat summary: a turn ended, or a request appeared. */
function needsYou(before: ChatSummary, now: ChatSummary): string | null {
  if (now.pendingRequests > before.pendingRequests) return "waits for your answer";
  if (before.busy && !now.busy) return "finished its turn";
  return null;
}

/** Tracks chats for attention; returns the unread chat ids. `openChatId` is the chat on screen. */
export function useAttention(chats: ChatSummary[] | undefined, pending: RequestView[] | undefined, openChatId: string | null): ReadonlySet<string> {
  const { stdout } = useStdout();
  const previous = useRef<Map<string, ChatSummary> | null>(null);
  const [unread, setUnread] = useState<ReadonlySet<string>>(new Set());
  /** Chats opened during their current turn: its end is not news (the summary may lag the screen). */
  const watched = useRef(new Set<string>());
  if (openChatId) watched.current.add(openChatId);

  useEffect(() => {
    if (!chats) return;
    const before = previous.current;
    previous.current = new Map(chats.map((c) => [c.id, c]));
    if (!before) return; // the first value is the state we start from, not news
    const news = chats.flatMap((c) => {
      const old = before.get(c.id);
      if (!old) return [];
      if (!old.busy && c.busy) watched.current.delete(c.id); // a new turn: not seen yet
      const what = c.id !== openChatId && !(watched.current.has(c.id) && !c.pendingRequests) ? needsYou(old, c) : null;
      return what ? [{ chat: c, what }] : [];
    });
    if (news.length === 0) return;
    setUnread((u) => new Set([...u, ...news.map((n) => n.chat.id)]));
    const style = notifyStyle();
    if (style === "bell") stdout.write("\x07");
    else if (style === "osc9") stdout.write(`\x1b]9;ocfleet: ${sanitizeInline(`${news[0]!.chat.title} ${news[0]!.what}`).slice(0, 120)}\x07`);
  }, [chats, openChatId, stdout]);

  // Opening a chat reads it.
  useEffect(() => {
    if (openChatId) setUnread((u) => (u.has(openChatId) ? new Set([...u].filter((id) => id !== openChatId)) : u));
  }, [openChatId]);

  // The window title: how many requests wait for you (the title is put back on exit).
  const waiting = pending?.length ?? 0;
  useEffect(() => {
    stdout.write(`\x1b]0;${waiting > 0 ? `ocfleet (${waiting} waiting)` : "ocfleet"}\x07`);
  }, [waiting, stdout]);

  return unread;
}
