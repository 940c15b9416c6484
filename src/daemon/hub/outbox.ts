// The agent's outbox: every report for the hub is written here, numbered, before it is sent, and
// deleted when the hub acknowledges that it committed it. After a reconnect what is left is sent
// again; the hub applies each sequence number once. Reports of one tick go in one transaction.
import type { AgentReport } from "../agent/link.js";
import type { Db } from "../db/open.js";
import type { Logger } from "../log.js";
import { fitForHub } from "./fit.js";

export interface OutboxEntry {
  seq: number;
  body: string;
}

/** A report as the hub will take it, and whether anything was cut (hub/fit.ts); the frame wraps it in one object more (dialer.ts). */
export function encodeReport(report: AgentReport): { json: string; cut: boolean } {
  return fitForHub(report, 1);
}

export class Outbox {
  private buffer: AgentReport[] = [];
  private scheduled = false;

  /** `onWritten` is called after each batch is committed, to send it. */
  constructor(
    private readonly db: Db,
    private readonly onWritten: () => void,
    private readonly log: Logger,
  ) {}

  add(report: AgentReport): void {
    this.buffer.push(report);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Writes what was added since the last flush. */
  flush(): void {
    this.scheduled = false;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    const insert = this.db.prepare("INSERT INTO link_outbox (body, created_at) VALUES (?, ?)");
    const now = Date.now();
    this.db.transaction(() => {
      for (const report of batch) {
        const { json, cut } = encodeReport(report);
        insert.run(json, now);
        if (cut) this.log.warn("cut a report to fit what the hub takes", { type: report.type, sent: json.length });
      }
    })();
    this.onWritten();
  }

  /** Entries after `seq`, oldest first. */
  after(seq: number, limit: number): OutboxEntry[] {
    return this.db.prepare("SELECT seq, body FROM link_outbox WHERE seq > ? ORDER BY seq LIMIT ?").all(seq, limit) as OutboxEntry[];
  }

  /** The hub committed everything up to `seq`. */
  acknowledge(seq: number): void {
    this.db.prepare("DELETE FROM link_outbox WHERE seq <= ?").run(seq);
  }

  size(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM link_outbox").get() as { n: number }).n;
  }

  clear(): void {
    this.buffer = [];
    this.db.prepare("DELETE FROM link_outbox").run();
  }
}
