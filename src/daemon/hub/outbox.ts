// The agent's outbox: every report for the hub is written here, numbered, before it is sent, and
// deleted when the hub acknowledges that it committed it. After a reconnect what is left is sent
// again; the hub applies each sequence number once. Reports of one tick go in one transaction.
import type { AgentReport } from "../agent/link.js";
import type { Db } from "../db/open.js";
import { capDepth, MAX_FRAME_DEPTH, nestedDeeperThan } from "../../protocol/json-depth.js";

export interface OutboxEntry {
  seq: number;
  body: string;
}

/** The report frame wraps a body in one more object (dialer.ts). */
const MAX_BODY_DEPTH = MAX_FRAME_DEPTH - 1;

/**
 * A report as the hub will take it. The hub refuses a frame nested deeper than MAX_FRAME_DEPTH and
 * cuts the link; sent again after the reconnect, the same report would cut it again, forever. Only
 * a model's tool input nests that deep, so what lies below the limit is replaced, never the report.
 */
export function encodeReport(report: AgentReport): string {
  const body = JSON.stringify(report);
  // Cut from the JSON's own reading of the report (a Date becomes its string first, as sent).
  return nestedDeeperThan(body, MAX_BODY_DEPTH) ? JSON.stringify(capDepth(JSON.parse(body), MAX_BODY_DEPTH)) : body;
}

export class Outbox {
  private buffer: AgentReport[] = [];
  private scheduled = false;

  /** `onWritten` is called after each batch is committed, to send it. */
  constructor(
    private readonly db: Db,
    private readonly onWritten: () => void,
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
      for (const report of batch) insert.run(encodeReport(report), now);
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
