// The agent's last sweep at every stop kills each process carrying its marker. A process that
// forks between the scan that finds it and its kill leaves a marked child the scan never saw: a
// CI run's daemon, stopped as it started, left one running (cli-chat.test.ts). Here a marked
// shell is forking as it is swept; afterwards, nothing marked may be left.
import { spawn } from "node:child_process";
import { afterAll, expect, it } from "vitest";
import { AGENT_MARK, killMarked, markedProcesses } from "../../src/daemon/agent/reaper.js";
import { waitFor } from "../helpers/daemon.js";

const agentMark = `reaper-test-${process.pid}`;

afterAll(() => {
  for (const pid of markedProcesses(agentMark)) process.kill(pid, "SIGKILL");
});

it("kills a marked process that forks while it is swept, and every child it forked meanwhile", async () => {
  // 300 children, one after another: still forking when the sweep starts.
  const shell = spawn("/bin/sh", ["-c", "i=0; while [ $i -lt 300 ]; do sleep 1000 & i=$((i+1)); done; wait"], {
    env: { ...process.env, [AGENT_MARK]: agentMark },
    stdio: "ignore",
    detached: true,
  });
  await waitFor("the shell to have forked", () => markedProcesses(agentMark).length >= 20, 15_000);
  const killed = killMarked(agentMark);
  expect(killed).toContain(shell.pid);
  // A killed process may linger a moment on a busy machine; one still marked that was never killed is a leak.
  expect(markedProcesses(agentMark).filter((pid) => !killed.includes(pid))).toEqual([]);
});
