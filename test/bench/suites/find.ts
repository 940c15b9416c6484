// Search and usage at scale, in an in-process hub on a real database: chat search (FTS5, through
// the API with access checks, ranking and snippets) against a LIKE '%…%' scan of the same table,
// at 10k and 100k synthetic messages; usage --by day at 100k against the same sums read from the
// table instead of the covering index.
import { api } from "../../../src/protocol/api/index.js";
import { createTestHub, type TestHub } from "../../helpers/hub.js";
import { median, percentile, sample, type BenchRow } from "../measure.js";

const VOCABULARY = 5000;
const WORDS_PER_MESSAGE = 40;
const DAY = 86_400_000;

/** A deterministic stream of numbers, so every run searches the same text. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s / 2_147_483_648;
  };
}

const word = (i: number) => `term${i.toString(36)}x`;

/** Adds `count` messages (prompt/reply pairs) in bulk, indexed the way migration 0009 backfills. */
function addMessages(hub: TestHub, chatIds: string[], from: number, count: number, next: () => number): void {
  const insertMessage = hub.db.prepare(
    `INSERT INTO messages (id, chat_id, seq, role, status, model, tokens_input, tokens_output, tokens_reasoning, tokens_cache_read, tokens_cache_write, cost, created_at, completed_at)
     VALUES (?, ?, ?, ?, ?, 'fake/fake-model', ?, ?, 0, 0, 0, ?, ?, ?)`,
  );
  const insertPart = hub.db.prepare("INSERT INTO message_parts (message_id, part_id, seq, kind, data, indexed) VALUES (?, 'p1', 1, 'text', ?, 1)");
  hub.db.transaction(() => {
    for (let i = from; i < from + count; i++) {
      const chatId = chatIds[i % chatIds.length]!;
      const assistant = i % 2 === 1;
      const at = hub.clock.now - Math.floor(next() * 30 * DAY);
      const words = Array.from({ length: WORDS_PER_MESSAGE }, () => word(Math.floor(next() ** 2 * VOCABULARY)));
      insertMessage.run(
        `msg_bench${i}`,
        chatId,
        i,
        assistant ? "assistant" : "user",
        assistant ? "completed" : "sent",
        assistant ? 12 : null,
        assistant ? 7 : null,
        assistant ? 0.001 : null,
        at,
        assistant ? at : null,
      );
      insertPart.run(`msg_bench${i}`, JSON.stringify({ kind: "text", text: words.join(" ") }));
    }
    hub.db
      .prepare(
        `INSERT INTO message_search (rowid, body) SELECT part_rowid, body FROM message_search_text
         WHERE part_rowid IN (SELECT rowid FROM message_parts WHERE message_id >= 'msg_bench' AND message_id < 'msg_benci')
         AND part_rowid > COALESCE((SELECT MAX(rowid) FROM message_search_docsize), 0)`,
      )
      .run();
  })();
}

async function measureSearch(hub: TestHub, user: ReturnType<TestHub["user"]>, scale: string, next: () => number): Promise<BenchRow[]> {
  const queries = Array.from({ length: 400 }, () => word(Math.floor(next() * 2000)));
  let q = 0;
  const fts = await sample(300, () => hub.call(user, api.search.messages, { query: queries[q++ % queries.length]! }), 30);
  const like = hub.db.prepare(
    `SELECT p.message_id FROM message_parts p JOIN messages m ON m.id = p.message_id JOIN chats c ON c.id = m.chat_id
     WHERE c.owner_id = ? AND p.data LIKE ? ORDER BY m.created_at DESC LIMIT 20`,
  );
  const scan = await sample(30, async () => like.all(user.user.id, `%${queries[q++ % queries.length]!}%`), 3);
  return [
    {
      name: `chat search p50, ${scale} messages`,
      measured: median(fts),
      baseline: median(scan),
      baselineName: "LIKE scan p50",
      unit: "ms",
      target: scale === "100k" ? "≤ 0.05×" : "(aim at 100k)",
    },
    {
      name: `chat search p99, ${scale} messages`,
      measured: percentile(fts, 99),
      baseline: percentile(scan, 99),
      baselineName: "LIKE scan p99",
      unit: "ms",
      target: scale === "100k" ? "≤ 0.05×, and ≤ 50 ms" : "(aim at 100k)",
    },
  ];
}

export async function run(): Promise<BenchRow[]> {
  const hub = createTestHub(Date.parse("2026-03-01T12:00:00Z"));
  try {
    const user = hub.user("bench");
    hub.worker("api");
    hub.worker("web");
    const chatIds: string[] = [];
    for (let i = 0; i < 200; i++) chatIds.push((await hub.call(user, api.chat.create, { worker: i % 2 ? "api" : "web", title: `chat ${i}` })).id);
    const next = random(42);
    const rows: BenchRow[] = [];
    addMessages(hub, chatIds, 0, 10_000, next);
    rows.push(...(await measureSearch(hub, user, "10k", next)));
    addMessages(hub, chatIds, 10_000, 90_000, next);
    hub.db.exec("ANALYZE");
    rows.push(...(await measureSearch(hub, user, "100k", next)));

    const byDay = await sample(30, () => hub.call(user, api.usage.report, { by: "day", since: "4w" }), 3);
    const scanSums = hub.db.prepare(
      `SELECT date(m.completed_at / 1000, 'unixepoch') AS day, COUNT(*), SUM(m.tokens_input), SUM(m.tokens_output), SUM(m.cost)
       FROM messages m NOT INDEXED JOIN chats c ON c.id = m.chat_id
       WHERE m.role = 'assistant' AND m.completed_at >= ? AND c.owner_id = ? GROUP BY 1`,
    );
    const scan = await sample(30, async () => scanSums.all(hub.clock.now - 28 * DAY, user.user.id), 3);
    rows.push({
      name: "usage --by day, 100k messages",
      measured: median(byDay),
      baseline: median(scan),
      baselineName: "same sums, table scan",
      unit: "ms",
      target: "≤ 1×",
    });
    return rows;
  } finally {
    hub.close();
  }
}
