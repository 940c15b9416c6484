// Notification rows: a user's webhooks, desktop setting and delivery log. The delivery itself is
// the notifier's (notify/notifier.ts); these are the internal functions it runs as the daemon.
import type { DeliveryView, NotifyEvent, WebhookView } from "../../protocol/api/index.js";
import type { ChatId, DeliveryId, WebhookId } from "../../protocol/ids.js";
import { newId } from "../crypto.js";
import { internalMutation, internalQuery } from "./context.js";
import { TABLES } from "./tables.js";

export interface WebhookRow {
  id: WebhookId;
  owner_id: string;
  url_encrypted: string;
  url_shown: string;
  events: string;
  created_at: number;
}

export function toWebhookView(row: WebhookRow): WebhookView {
  return { id: row.id, url: row.url_shown, events: JSON.parse(row.events) as NotifyEvent[], createdAt: row.created_at };
}

interface DeliveryRow {
  id: DeliveryId;
  channel: "webhook" | "desktop";
  webhook_id: WebhookId | null;
  event: NotifyEvent;
  chat_id: ChatId | null;
  status: DeliveryView["status"];
  attempts: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export function toDeliveryView(row: DeliveryRow): DeliveryView {
  return {
    id: row.id,
    channel: row.channel,
    webhookId: row.webhook_id,
    event: row.event,
    chatId: row.chat_id,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Where an event in a chat goes: its owner's webhooks and desktop setting, and the names a payload carries. */
export const notifyTargets = internalQuery((ctx, args: { chatId: string }) => {
  const chat = ctx.db
    .prepare(
      `SELECT c.owner_id, c.worker_name, COALESCE(m.name, '') AS machine_name, COALESCE(s.desktop, 0) AS desktop
       FROM chats c LEFT JOIN workers w ON w.id = c.worker_id LEFT JOIN machines m ON m.id = w.machine_id
         LEFT JOIN notify_settings s ON s.user_id = c.owner_id WHERE c.id = ?`,
    )
    .get(args.chatId) as { owner_id: string; worker_name: string; machine_name: string; desktop: number } | undefined;
  if (!chat) return null;
  const webhooks = ctx.db.prepare("SELECT * FROM webhooks WHERE owner_id = ? ORDER BY created_at").all(chat.owner_id) as WebhookRow[];
  return { ownerId: chat.owner_id, worker: chat.worker_name, machine: chat.machine_name, desktop: chat.desktop === 1, webhooks };
});

export const startDelivery = internalMutation(
  (ctx, args: { ownerId: string; channel: "webhook" | "desktop"; webhookId: string | null; event: NotifyEvent; chatId: string }) => {
    const id = newId("delivery");
    ctx.db
      .prepare(
        `INSERT INTO notify_deliveries (id, owner_id, webhook_id, channel, event, chat_id, status, attempts, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'sending', 0, ?, ?)`,
      )
      .run(id, args.ownerId, args.webhookId, args.channel, args.event, args.chatId, ctx.now, ctx.now);
    ctx.writes(TABLES.notify, args.ownerId);
    return id;
  },
);

export const updateDelivery = internalMutation(
  (ctx, args: { id: string; ownerId: string; status: DeliveryView["status"]; attempts: number; lastError: string | null }) => {
    ctx.db
      .prepare("UPDATE notify_deliveries SET status = ?, attempts = ?, last_error = ?, updated_at = ? WHERE id = ?")
      .run(args.status, args.attempts, args.lastError, ctx.now, args.id);
    ctx.writes(TABLES.notify, args.ownerId);
  },
);
