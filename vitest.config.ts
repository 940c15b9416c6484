import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    // Integration and end-to-end tests start real daemons and OpenCode servers; CI has 2 cores.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    restoreMocks: true,
    // Inherited by every CLI and daemon the tests spawn: sign-in tokens go to a file in the
    // test's state directory (never the developer's keychain), and no real browser is opened.
    env: {
      OCFLEET_CREDENTIALS: "file",
      OCFLEET_BROWSER: "none",
      // Every daemon (and in-process hub) fails a mutation that changed rows without declaring a
      // write (src/daemon/model/write-check.ts), so a stale live view cannot go unnoticed.
      OCFLEET_CHECK_WRITES: "1",
    },
  },
});
