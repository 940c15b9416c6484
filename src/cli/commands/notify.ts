// ocfleet notify …: webhooks and desktop notifications when a turn finishes, fails or waits for you.
import type { Command } from "../commander.js";
import { api, type DeliveryView, type NotifyEvent, type WebhookView } from "../../protocol/api/index.js";
import { CliError, formatAge, formatTable, style } from "../output.js";
import { defineRead } from "../command.js";

const EVENTS: readonly NotifyEvent[] = ["done", "failed", "waiting"];

function parseEvents(value: string | undefined): NotifyEvent[] | undefined {
  if (value === undefined) return undefined;
  const events = value
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  const wrong = events.filter((e) => !EVENTS.includes(e as NotifyEvent));
  if (events.length === 0 || wrong.length > 0) throw new CliError(`--events: a comma-separated list of done, failed, waiting, not '${value}'`, 2);
  return events as NotifyEvent[];
}

function renderWebhooks(hooks: WebhookView[]): string {
  if (hooks.length === 0) return style.dim("no webhooks; add one with: ocfleet notify webhook add <url>");
  return formatTable([["ID", "URL", "EVENTS", "ADDED"].map(style.dim), ...hooks.map((h) => [h.id, h.url, h.events.join(","), formatAge(h.createdAt)])]);
}

function renderLog(deliveries: DeliveryView[]): string {
  if (deliveries.length === 0) return style.dim("nothing delivered yet");
  return formatTable([
    ["WHEN", "EVENT", "CHAT", "TO", "STATUS", "ATTEMPTS", "ERROR"].map(style.dim),
    ...deliveries.map((d) => [
      formatAge(d.createdAt),
      d.event,
      d.chatId ?? "",
      d.channel === "webhook" ? (d.webhookId ?? "webhook") : "desktop",
      d.status === "delivered" ? style.green(d.status) : d.status === "failed" ? style.red(d.status) : d.status,
      String(d.attempts),
      d.lastError ?? "",
    ]),
  ]);
}

export function registerNotifyCommands(program: Command): void {
  const notify = program.command("notify").description("be told when a turn in your chats finishes, fails or waits for you");
  const webhook = notify.command("webhook").description("post a small JSON (chat, worker, machine, event, a summary; never the conversation) to a URL");

  defineRead(
    webhook
      .command("add <url>")
      .description("add a webhook (ntfy, Slack-compatible, or your own endpoint)")
      .option("--events <events>", "which of done,failed,waiting (default: all three)"),
    {
      check: (_args, options: { events?: string }) => void parseEvents(options.events),
      run: (c, [url], options: { events?: string }) => {
        const events = parseEvents(options.events);
        return c.call(api.notify.addWebhook, { url: url!, ...(events ? { events } : {}) });
      },
      human: (hook) => `added webhook ${hook.id} (${hook.url}) for ${hook.events.join(", ")}`,
    },
  );

  defineRead(webhook.command("list").description("your webhooks (the URL is shown only in part: it may be a credential)"), {
    run: (c) => c.call(api.notify.webhooks, {}),
    human: (hooks) => renderWebhooks(hooks),
  });

  defineRead(webhook.command("remove <webhook>").description("remove a webhook"), {
    run: (c, [id]) => c.call(api.notify.removeWebhook, { webhook: id! }),
    human: (_r, [id]) => `removed webhook ${id}`,
  });

  defineRead(notify.command("log").description("your latest deliveries: delivered, retried, failed and why").option("--limit <n>", "how many (default 50)"), {
    check: (_args, options: { limit?: string }) => {
      if (options.limit !== undefined && !/^\d+$/.test(options.limit)) throw new CliError(`--limit: must be a whole number, not '${options.limit}'`, 2);
    },
    run: (c, _args, options: { limit?: string }) => c.call(api.notify.log, options.limit ? { limit: Number(options.limit) } : {}),
    human: (deliveries) => renderLog(deliveries),
  });

  defineRead(notify.command("desktop <state>").description("desktop notifications on or off (shown by the daemon's machine: notify-send or osascript)"), {
    check: ([state]) => {
      if (state !== "on" && state !== "off") throw new CliError(`<state> is on or off, not '${state}'`, 2);
    },
    run: (c, [state]) => c.call(api.notify.desktop, { on: state === "on" }),
    human: (r) => (r.on ? `desktop notifications on (through ${r.notifier})` : "desktop notifications off"),
  });
}
