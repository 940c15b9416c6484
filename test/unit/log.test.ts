import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/daemon/log.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function logFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "ocf-log-"));
  dirs.push(dir);
  return join(dir, "daemon.log");
}

describe("the daemon log", () => {
  it("rotates by size while it runs, not only at start", () => {
    const file = logFile();
    const log = createLogger({ file, echo: false, rotateBytes: 4096 });
    for (let i = 0; i < 200; i++) log.info("a line of some length to fill the file", { i });
    log.close();
    expect(existsSync(`${file}.1`)).toBe(true);
    expect(statSync(file).size).toBeLessThanOrEqual(4096 + 200);
    expect(statSync(`${file}.1`).size).toBeLessThanOrEqual(4096 + 200);
  });

  it("cuts long values short", () => {
    const file = logFile();
    const log = createLogger({ file, echo: false });
    log.warn("refused", { origin: "x".repeat(100_000) });
    log.close();
    const text = readFileSync(file, "utf8");
    expect(text.length).toBeLessThan(1000);
    expect(text).toContain("(100000 chars)");
  });

  it("writes a repeated warning once per interval and then how many more came", () => {
    vi.useFakeTimers();
    const file = logFile();
    const log = createLogger({ file, echo: false, throttleMs: 10_000 });
    for (let i = 0; i < 1000; i++) log.warnThrottled("upgrade", "refused websocket upgrade", { i });
    vi.advanceTimersByTime(10_000);
    vi.useRealTimers();
    log.close();
    const lines = readFileSync(file, "utf8").trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain("and 999 more like it");
  });
});
