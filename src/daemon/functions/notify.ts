// notify: your webhooks, your desktop setting and the log of deliveries. Delivery is the daemon's
// (notify/notifier.ts), from the chat runtime's events; each user sees and manages only their own.
import { z } from "zod";
import { api } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import { newId } from "../crypto.js";
import { toDeliveryView, toWebhookView, type WebhookRow } from "../model/notify.js";
import { TABLES } from "../model/tables.js";
import { findDesktopNotifier, noNotifierAdvice } from "../../platform/desktop-notify.js";
import { defineMutation, defineQuery } from "./define.js";

const EVENTS = ["done", "failed", "waiting"] as const;

/** Scheme, host and a hint of the path: Slack's and ntfy's URLs carry their credential in the path. */
function shownUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname.length > 1 || url.search ? "/…" : ""}`;
}

export const addWebhook = defineMutation(api.notify.addWebhook, {
  access: "user",
  args: z.strictObject({
    url: z
      .string()
      .trim()
      .max(2000)
      .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), "must be an http:// or https:// URL"),
    events: z.array(z.enum(EVENTS)).min(1, "must name at least one of done, failed, waiting").optional(),
  }),
  handler: (ctx, { url, events }) => {
    const id = newId("webhook");
    const chosen = [...new Set(events ?? EVENTS)];
    ctx.db
      .prepare("INSERT INTO webhooks (id, owner_id, url_encrypted, url_shown, events, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(id, ctx.user.id, ctx.services.secrets.encrypt(url), shownUrl(new URL(url)), JSON.stringify(chosen), ctx.now);
    ctx.writes(TABLES.notify, ctx.user.id);
    return toWebhookView(ctx.db.prepare("SELECT * FROM webhooks WHERE id = ?").get(id) as WebhookRow);
  },
});

export const webhooks = defineQuery(api.notify.webhooks, {
  access: "user",
  args: z.strictObject({}),
  handler: (ctx) => {
    ctx.reads(TABLES.notify, ctx.user.id);
    return (ctx.db.prepare("SELECT * FROM webhooks WHERE owner_id = ? ORDER BY created_at").all(ctx.user.id) as WebhookRow[]).map(toWebhookView);
  },
});

export const removeWebhook = defineMutation(api.notify.removeWebhook, {
  access: "user",
  args: z.strictObject({ webhook: z.string().trim().min(1, "must name a webhook (whk_…)") }),
  handler: (ctx, { webhook }) => {
    const { changes } = ctx.db.prepare("DELETE FROM webhooks WHERE id = ? AND owner_id = ?").run(webhook, ctx.user.id);
    if (changes === 0) throw new FleetError("not_found", `you have no webhook '${webhook}' (see: ocfleet notify webhook list)`);
    ctx.writes(TABLES.notify, ctx.user.id);
    return { removed: true };
  },
});

export const log = defineQuery(api.notify.log, {
  access: "user",
  args: z.strictObject({ limit: z.number().int().min(1).max(500).optional() }),
  handler: (ctx, { limit }) => {
    ctx.reads(TABLES.notify, ctx.user.id);
    return (
      ctx.db
        .prepare("SELECT * FROM notify_deliveries WHERE owner_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?")
        .all(ctx.user.id, limit ?? 50) as Parameters<typeof toDeliveryView>[0][]
    ).map(toDeliveryView);
  },
});

export const desktop = defineMutation(api.notify.desktop, {
  access: "user",
  args: z.strictObject({ on: z.boolean() }),
  handler: (ctx, { on }) => {
    // The daemon shows them, so it is the daemon's machine that needs a notifier.
    const notifier = findDesktopNotifier();
    if (on && !notifier) throw new FleetError("failed_precondition", noNotifierAdvice());
    ctx.db
      .prepare("INSERT INTO notify_settings (user_id, desktop) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET desktop = excluded.desktop")
      .run(ctx.user.id, on ? 1 : 0);
    ctx.writes(TABLES.notify, ctx.user.id);
    return { on, notifier: notifier?.name ?? null };
  },
});
