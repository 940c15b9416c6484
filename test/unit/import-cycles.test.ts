// The layers stay acyclic: Biome's noImportCycles (type-only imports count too, see biome.json)
// must find no cycle in src/. src/tui/ is left out until its own cycles are broken; widen DIRS then.
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const DIRS = ["src/daemon", "src/protocol", "src/platform", "src/client", "src/cli", "src/auth", "src/terminal"];

describe("import cycles", () => {
  it("no module in src/ imports itself through a cycle", async () => {
    const result = await execa("npx", ["biome", "lint", "--only=suspicious/noImportCycles", "--max-diagnostics=50", ...DIRS], { reject: false, all: true });
    const cycles = result.all.split("\n").filter((line) => /noImportCycles/.test(line));
    expect(cycles, result.all).toEqual([]);
    expect(result.exitCode, result.all).toBe(0);
  }, 60_000);
});
