// Small timing helpers for the benchmark: samples, percentiles, and whole-process timing.
import { spawn } from "node:child_process";

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export const median = (samples: number[]) => percentile(samples, 50);

/** Times `fn` n times after `warmup` untimed runs; returns milliseconds per run. */
export async function sample(n: number, fn: () => Promise<unknown>, warmup = Math.min(50, n)): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await fn();
    out.push(performance.now() - start);
  }
  return out;
}

/** Wall time of a whole process, from spawn to exit. */
export function timeProcess(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, { env, stdio: "ignore" });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`${command} ${args.join(" ")} exited ${code}`))));
  });
}

/** One row of the results table: a measurement, its baseline from the same run, and the aim. */
export interface BenchRow {
  name: string;
  measured: number;
  baseline: number;
  baselineName: string;
  unit: "ms" | "MB" | "/s" | "%";
  /** The ratio we aim for, or a text target. */
  target: string;
  /** Set when the row is an absolute figure whose ratio is not the point (e.g. CPU). */
  note?: string;
}
