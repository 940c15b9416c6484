// Fault injection: the store fills up in the middle of a reply. The real database refuses writes
// with SQLITE_FULL (OCFLEET_DB_MAX_PAGES caps it a little above its size, and ballast written
// through the API fills the rest), as on a full disk; then the ballast is removed and space returns.
import { readFileSync } from "node:fs";
import type { Db } from "../../src/daemon/db/open.js";
import { Database } from "../../src/daemon/db/sqlite-driver.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import type { FleetError } from "../../src/protocol/errors.js";
import { api, type MessageView } from "../../src/protocol/api/index.js";
import { statePaths } from "../../src/protocol/statefile.js";
import { cleanupHomes, connect, createHome, runCli } from "../helpers/daemon.js";
import { addPatientWorker, ChatWatcher, textOf } from "../helpers/faults.js";
import { createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";

let home: string;
let sandbox: OpencodeSandbox;
let client: FleetConnection;
/** Room left for the test to fill, in pages, above what the store holds at the start. */
const HEADROOM_PAGES = 60;

async function startDaemon(env: Record<string, string> = {}): Promise<void> {
  const started = await runCli(home, ["daemon", "start", "--json"], { env: { OCFLEET_WORKER_BACKOFF_MS: "100", ...env } });
  expect(started.code, started.stderr).toBe(0);
  client = await connect(home);
}

async function stopDaemon(): Promise<void> {
  client.close();
  const stopped = await runCli(home, ["daemon", "stop"]);
  expect(stopped.code, stopped.stderr).toBe(0);
}

/** Opens the store while no daemon holds it. */
function openStore<T>(read: (db: Db) => T): T {
  const db = new Database(statePaths(home).db, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  home = createHome();
  await startDaemon();
  await addPatientWorker(home, sandbox, "main");
  await stopDaemon();
  const pages = openStore((db) => db.pragma("page_count", { simple: true }) as number);
  await startDaemon({ OCFLEET_DB_MAX_PAGES: String(pages + HEADROOM_PAGES) });
}, 300_000);

afterAll(async () => {
  client?.close();
  await cleanupHomes();
  await sandbox?.close();
});

/** Adds items of `size` characters until the store refuses one; returns their ids and the refusal. */
async function fillWith(size: number): Promise<{ ids: string[]; refusal: FleetError }> {
  const ids: string[] = [];
  for (let i = 0; ; i++) {
    try {
      const item = await client.call(api.checklists.addItem, { key: "ballast", text: `${i} ${"x".repeat(size)}` });
      ids.push(item.id);
    } catch (err) {
      return { ids, refusal: err as FleetError };
    }
    if (i > 10_000) throw new Error("the store never filled up");
  }
}

describe("a full disk in the middle of a reply", () => {
  it("says so to the client and in the log, ends the reply, keeps the database whole, and works again once space returns", async () => {
    const chatId = (await client.call(api.chat.create, { worker: "main" })).id;
    const watcher = new ChatWatcher(client, chatId);
    const { messageId } = await client.call(api.chat.send, { chat: chatId, text: "stream timed 400 every 25 ms" });
    await watcher.at(
      () => textOf(watcher.streaming).includes("[3:"),
      () => undefined,
      60_000,
      "the reply streaming",
    );

    // Fill the store while the reply streams into it.
    const big = await fillWith(3000);
    const small = await fillWith(50);
    const ballast = [...big.ids, ...small.ids];
    for (const refusal of [big.refusal, small.refusal]) {
      expect(refusal).toMatchObject({ code: "unavailable", message: expect.stringContaining("the disk is full") });
    }

    // The reply ends (its writes fail), with the reason, and OpenCode stops working on it. Its end
    // is either held in memory (shown by the stream) until space returns, or already saved: the
    // end's own write may fit where the next piece's did not.
    const endedInStream = () => (watcher.streaming?.status ?? "streaming") !== "streaming";
    await watcher.at(
      () => endedInStream() || watcher.replyTo(messageId)?.status === "error",
      () => undefined,
      60_000,
      "the reply to end",
    );
    const ended = endedInStream() ? watcher.streaming : (await client.call(api.chat.messages, { chat: chatId })).find((m) => m.replyTo === messageId);
    expect(ended).toMatchObject({ status: "error", error: { message: expect.stringContaining("the disk is full") } });
    const log = readFileSync(statePaths(home).log, "utf8");
    expect(log).toContain("the disk is full");

    // While the end waits for space, the chat takes no prompt, saying why. (Once the end is saved
    // the chat is free again; whether a prompt fits then depends on which pages are left.)
    if (endedInStream()) {
      await expect(client.call(api.chat.send, { chat: chatId, text: "too soon" })).rejects.toMatchObject({
        message: expect.stringContaining("the disk is full"),
      });
    }

    // Space returns: the reply's end is saved, and the next send works.
    for (const id of ballast.reverse()) await client.call(api.checklists.removeItem, { key: "ballast", itemId: id as never });
    await watcher.at(
      () => watcher.streaming === null && watcher.committed.size >= 2,
      () => undefined,
      30_000,
      "the reply saved",
    );
    const saved = (await client.call(api.chat.messages, { chat: chatId })).find((m) => m.replyTo === messageId) as MessageView;
    expect(saved).toMatchObject({ status: "error", error: { message: expect.stringContaining("the disk is full") } });
    expect(textOf(saved)).toMatch(/^\[0:[\d.]+\]\[1:/);
    expect(watcher.streamedText.get(saved.id)!.startsWith(textOf(saved)) || textOf(saved).startsWith(watcher.streamedText.get(saved.id)!)).toBe(true);
    expect((await client.call(api.chat.get, { chat: chatId })).busy).toBe(false);
    const next = await runCli(home, ["chat", "send", chatId, "back with room", "--wait"]);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toContain("echo: back with room");
    watcher.close();

    // The database is whole, and nothing in it is left streaming.
    await stopDaemon();
    expect(openStore((db) => db.pragma("integrity_check", { simple: true }))).toBe("ok");
    expect(openStore((db) => db.prepare("SELECT COUNT(*) AS n FROM messages WHERE status = 'streaming'").get())).toEqual({ n: 0 });
  }, 180_000);
});
