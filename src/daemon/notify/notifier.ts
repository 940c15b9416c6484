// Delivers notifications from the chat runtime's own events (a turn finished, a request asked),
// never by polling: to the chat owner's webhooks (POST of a small JSON, retried) and, if they
// turned it on, the desktop. A payload carries ids and names, never the conversation's text,
// a title made from a prompt, or the webhook's URL. Every delivery is logged (notify log).
import type { NotifyEvent, NotifyPayload } from "../../protocol/api/index.js";
import type { ChatId } from "../../protocol/ids.js";
import type { AskedRequest, ChatRuntime, FinishedTurn } from "../chat/runtime.js";
import type { SecretKeeper } from "../crypto.js";
import type { Logger } from "../log.js";
import type { InternalRunner } from "../model/context.js";
import { notifyTargets, startDelivery, updateDelivery } from "../model/notify.js";
import { findDesktopNotifier, type DesktopNotifier } from "../../platform/desktop-notify.js";

export interface NotifierOptions {
  run: InternalRunner;
  secrets: SecretKeeper;
  log: Logger;
  /** The wait before the 2nd attempt; the 3rd waits four times as long. OCFLEET_NOTIFY_RETRY_MS. */
  retryMs?: number;
  /** Per attempt. */
  timeoutMs?: number;
  desktop?: DesktopNotifier | null;
}

const ATTEMPTS = 3;

export class Notifier {
  private readonly retryMs: number;
  private readonly timeoutMs: number;
  private readonly desktop: DesktopNotifier | null;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly options: NotifierOptions) {
    this.retryMs = options.retryMs ?? 2000;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.desktop = options.desktop === undefined ? findDesktopNotifier() : options.desktop;
  }

  attach(chat: ChatRuntime): void {
    chat.onTurnFinished((turn) => this.turnFinished(turn));
    chat.onRequestAsked((asked) => this.requestAsked(asked));
  }

  /** No more retries or new deliveries; waits (at most `waitMs`) for those in flight before the database closes. */
  async stop(waitMs = 1000): Promise<void> {
    this.stopped = true;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
  }

  private turnFinished(turn: FinishedTurn): void {
    if (turn.status === "completed") this.send(turn.chatId, "done", "a turn finished");
    else this.send(turn.chatId, "failed", `a turn ended ${turn.status}${turn.error ? ` (${turn.error.name})` : ""}`);
  }

  private requestAsked(asked: AskedRequest): void {
    this.send(asked.chatId, "waiting", asked.kind === "permission" ? "a permission request waits for you" : "a question waits for your answer");
  }

  private send(chatId: ChatId, event: NotifyEvent, what: string): void {
    if (this.stopped) return;
    try {
      const targets = this.options.run.runQuery(notifyTargets, { chatId });
      if (!targets) return;
      const summary = `${what} on worker ${targets.worker}${targets.machine ? ` (${targets.machine})` : ""}`;
      const payload: NotifyPayload & { text: string } = {
        event,
        chat: chatId,
        worker: targets.worker,
        machine: targets.machine,
        summary,
        at: new Date().toISOString(),
        text: `ocfleet: ${summary}`, // what Slack-style endpoints show
      };
      for (const hook of targets.webhooks) {
        if (!(JSON.parse(hook.events) as NotifyEvent[]).includes(event)) continue;
        this.track(this.deliverWebhook(targets.ownerId, hook.id, this.options.secrets.decrypt(hook.url_encrypted), payload));
      }
      if (targets.desktop && this.desktop) this.track(this.deliverDesktop(targets.ownerId, payload));
    } catch (err) {
      this.options.log.warn("could not prepare a notification", { chat: chatId, error: String(err) });
    }
  }

  private track(delivery: Promise<void>): void {
    const settled = delivery
      .catch((err: unknown) => this.options.log.warn("a notification could not be recorded", { error: String(err) }))
      .finally(() => this.inFlight.delete(settled));
    this.inFlight.add(settled);
  }

  private async deliverWebhook(ownerId: string, webhookId: string, url: string, payload: NotifyPayload): Promise<void> {
    const run = this.options.run;
    const id = run.runMutation(startDelivery, { ownerId, channel: "webhook", webhookId, event: payload.event, chatId: payload.chat });
    let lastError: string | null = null;
    let attempts = 0;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      attempts = attempt;
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": "ocfleet" },
          body: JSON.stringify(payload),
          redirect: "error",
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        await response.body?.cancel();
        if (response.ok) {
          run.runMutation(updateDelivery, { id, ownerId, status: "delivered", attempts: attempt, lastError: null });
          return;
        }
        lastError = `HTTP ${response.status}`;
        // A client error other than "too many requests" will not change by retrying.
        if (response.status < 500 && response.status !== 429) break;
      } catch (err) {
        lastError = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      }
      if (attempt < ATTEMPTS && !this.stopped) {
        run.runMutation(updateDelivery, { id, ownerId, status: "sending", attempts: attempt, lastError });
        await new Promise((resolve) => setTimeout(resolve, this.retryMs * 4 ** (attempt - 1)).unref());
      } else if (this.stopped) break;
    }
    run.runMutation(updateDelivery, { id, ownerId, status: "failed", attempts, lastError });
    this.options.log.warn("a webhook notification failed", { webhook: webhookId, error: lastError });
  }

  private async deliverDesktop(ownerId: string, payload: NotifyPayload): Promise<void> {
    const run = this.options.run;
    const id = run.runMutation(startDelivery, { ownerId, channel: "desktop", webhookId: null, event: payload.event, chatId: payload.chat });
    try {
      await this.desktop!.show("ocfleet", payload.summary);
      run.runMutation(updateDelivery, { id, ownerId, status: "delivered", attempts: 1, lastError: null });
    } catch (err) {
      run.runMutation(updateDelivery, { id, ownerId, status: "failed", attempts: 1, lastError: String(err) });
    }
  }
}
