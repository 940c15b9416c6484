// A group stopped while its OpenCode process is being launched. The daemon stops its workers and
// then sweeps every process carrying its marker; a process spawned after that sweep outlives the
// daemon. One did in a CI run: a daemon stopped right after it started, while its first worker's
// launch was still loading the adapter's code.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { migrate } from "../../src/daemon/db/migrate.js";
import { migrations } from "../../src/daemon/db/migrations/index.js";
import type { Fanout } from "../../src/daemon/agent/fanout.js";
import { ProcessGroup, type GroupMember } from "../../src/daemon/agent/process-group.js";
import { ProcessRunner } from "../../src/daemon/agent/process-runner.js";
import { killMarked, ProcessRecords } from "../../src/daemon/agent/reaper.js";
import { createLogger } from "../../src/daemon/log.js";
import { removeTempDatabases, tempDatabase } from "../helpers/migrations.js";

const dir = mkdtempSync(join(tmpdir(), "ocf-runner-"));
const agentMark = `runner-test-${process.pid}`;

afterAll(() => {
  killMarked(agentMark);
  removeTempDatabases();
  rmSync(dir, { recursive: true, force: true });
});

it("spawns nothing for a group that was stopped while its launch was loading the adapter", async () => {
  // Stands in for `opencode serve`: says it listens, then waits. Spawned, it would be seen by its output.
  const binary = join(dir, "opencode");
  writeFileSync(binary, '#!/bin/sh\necho "opencode server listening on http://127.0.0.1:9"\nexec sleep 30\n');
  chmodSync(binary, 0o755);
  const temp = tempDatabase();
  migrate(temp.db, migrations, { dbPath: temp.path });
  const records = new ProcessRecords(temp.db);
  const output: string[] = [];
  const fanout = { groupLog: () => {}, routeLine: (_group: unknown, line: string) => output.push(line), routeEvent: () => {} } as unknown as Fanout;
  const runner = new ProcessRunner(
    { log: createLogger({ file: join(dir, "daemon.log"), echo: false }), records, agentMark, backoffMs: 1000, readyTimeoutMs: 10_000 },
    { fanout, killer: { records, agentMark, report: () => {} }, attach: async () => {}, setRuntime: () => {} },
  );
  const member: GroupMember = { spec: { id: "wrk_1", directory: dir, env: {}, opencodeBinary: binary, isolated: false } };
  const group = new ProcessGroup<GroupMember>("key", { path: binary, source: "setting" }, {}, () => dir);
  group.members.set(member.spec.id, member);

  const launching = runner.launch(group as never, "starting OpenCode");
  // The launch is now waiting for the adapter's code; the stop comes, as at a daemon's shutdown.
  await runner.stopGroup(group as never, member as never);
  await launching;
  expect(output).toEqual([]);
  expect(records.list()).toEqual([]);
});
