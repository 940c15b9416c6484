// Notifications: when a turn in one of your chats finishes, fails, or waits for you, the daemon
// posts to your webhooks and (if on) shows a desktop notification. Never secrets or transcripts.
import type { ChatId, DeliveryId, WebhookId } from "../ids.js";
import { defineModule, mutation, query, type NoArgs } from "./define.js";

export type NotifyEvent = "done" | "failed" | "waiting";

/** What a webhook receives, as JSON. */
export interface NotifyPayload {
  event: NotifyEvent;
  chat: ChatId;
  worker: string;
  machine: string;
  /** One line, no links, no text of the conversation. */
  summary: string;
  at: string;
}

export interface WebhookView {
  id: WebhookId;
  /** Scheme, host and a hint of the path: the whole URL may be a credential and is never shown. */
  url: string;
  events: NotifyEvent[];
  createdAt: number;
}

export interface DeliveryView {
  id: DeliveryId;
  channel: "webhook" | "desktop";
  webhookId: WebhookId | null;
  event: NotifyEvent;
  chatId: ChatId | null;
  status: "sending" | "delivered" | "failed";
  attempts: number;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export const notify = defineModule("notify", {
  addWebhook: mutation<{ url: string; events?: NotifyEvent[] }, WebhookView>(),
  webhooks: query<NoArgs, WebhookView[]>(),
  removeWebhook: mutation<{ webhook: string }, { removed: boolean }>(),
  /** The caller's latest deliveries, newest first. */
  log: query<{ limit?: number }, DeliveryView[]>(),
  /** Turns desktop notifications on or off; on is refused where the machine has no notifier. */
  desktop: mutation<{ on: boolean }, { on: boolean; notifier: string | null }>(),
});
