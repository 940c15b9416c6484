// The layers stay acyclic: Biome's noImportCycles (type-only imports count too, see biome.json)
// must find no cycle anywhere in src/.
import { execa } from "execa";
import { describe, expect, it } from "vitest";

describe("import cycles", () => {
  it("no module in src/ imports itself through a cycle", async () => {
    const result = await execa("npx", ["biome", "lint", "--only=suspicious/noImportCycles", "--max-diagnostics=50", "src"], { reject: false, all: true });
    const cycles = result.all.split("\n").filter((line) => /noImportCycles/.test(line));
    expect(cycles, result.all).toEqual([]);
    expect(result.exitCode, result.all).toBe(0);
  }, 60_000);
});
