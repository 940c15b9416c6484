// Workers on a real OpenCode: adding (and refusing) one, restarts after a crash, stop and start,
// logs, an OpenCode that cannot start, and no OpenCode left behind however the daemon stops.
import { chmodSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { isPidAlive, listProcesses, readCommandLine, waitForExit } from "../../src/platform/processes.js";
import { api, type WorkerView } from "../../src/protocol/api/index.js";
import { cleanupHomes, cliJson, connect, createHome, daemonState, killDaemon, runCli, waitFor } from "../helpers/daemon.js";
import { untilLive } from "../helpers/live.js";
import { createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";

let home: string;
let sandbox: OpencodeSandbox;
let client: FleetConnection;
/** Short restart backoff so crash loops end in seconds, not minutes. */
const DAEMON_ENV = { OCFLEET_WORKER_BACKOFF_MS: "100" };

async function startDaemon(): Promise<void> {
  const started = await runCli(home, ["daemon", "start", "--json"], { env: DAEMON_ENV });
  expect(started.code, started.stderr).toBe(0);
}

/** Resolves with the worker's view once `done` holds, watching it live. */
const waitForWorker = (worker: string, done: (w: WorkerView) => boolean) => untilLive(client, api.workers.get, { worker }, done);

/** OpenCode processes running in a directory, found through /proc (the test knows no pid yet). */
function opencodeIn(dir: string): number[] {
  return listProcesses()
    .map((p) => p.pid)
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/cwd`) === dir && isOpencode(pid);
      } catch {
        return false;
      }
    });
}

const isOpencode = (pid: number) => readCommandLine(pid)?.some((arg) => arg.includes("opencode")) ?? false;

beforeAll(async () => {
  sandbox = await createOpencodeSandbox();
  home = createHome();
  await startDaemon();
  client = await connect(home);
});

afterAll(async () => {
  client?.close();
  await cleanupHomes();
  await sandbox?.close();
});

describe("workers on a real OpenCode", () => {
  let alpha: WorkerView;

  it("`worker add` starts a worker that reaches idle, with the fake model in its models", async () => {
    const dir = sandbox.project("alpha");
    alpha = await cliJson<WorkerView>(home, ["worker", "add", dir, "--name", "alpha", "--env-file", sandbox.envFile("alpha")]);
    expect(alpha).toMatchObject({ name: "alpha", directory: dir, runState: "idle", approval: "approved", desiredState: "running", restartCount: 0 });
    expect(alpha.opencodeVersion).toBe("1.18.33");
    expect(isOpencode(alpha.pid!)).toBe(true);
    expect(alpha.envKeys).toContain("OPENCODE_CONFIG_CONTENT");
    const models = await cliJson(home, ["worker", "models", "alpha"]);
    expect(models).toEqual([expect.objectContaining({ id: "fake/fake-model", name: "Fake Model", toolCall: true, isDefault: true })]);
    const [machine] = await cliJson(home, ["machine", "list"]);
    expect(machine).toMatchObject({ isLocal: true, online: true, approval: "approved", workers: { total: 1, running: 1, active: 0, error: 0 } });
    expect(machine.lastHeartbeatAt).toBeGreaterThan(Date.now() - 15_000);
  });

  it("refuses a missing directory, a file, or a directory that already has a worker, writing nothing", async () => {
    const file = join(sandbox.root, "alpha.env");
    // An argument that cannot be right is a usage error (2); one that clashes with what exists is not (1).
    const cases: Array<[string[], RegExp, number]> = [
      [["worker", "add", join(sandbox.root, "nope")], /does not exist/, 1],
      [["worker", "add", file], /is a file, not a directory/, 2],
      [["worker", "add", alpha.directory], /worker 'alpha' already serves/, 1],
      [["worker", "add", sandbox.project("other"), "--name", "alpha"], /a worker named 'alpha' exists already/, 1],
      [["worker", "add", sandbox.project("bad-env"), "--env", "1BAD=x"], /^ocfleet: --env: '1BAD' is not a valid environment variable name/, 2],
    ];
    for (const [args, message, code] of cases) {
      const result = await runCli(home, args);
      expect(result.code, args.join(" ")).toBe(code);
      expect(result.stderr).toMatch(message);
    }
    expect((await cliJson(home, ["worker", "list"])).map((w: WorkerView) => w.name)).toEqual(["alpha"]);
  });

  it("restarts an OpenCode that was killed, counting the restart", async () => {
    const oldPid = alpha.pid!;
    process.kill(oldPid, "SIGKILL");
    const restarted = await waitForWorker("alpha", (w) => w.runState === "idle" && w.pid !== oldPid);
    expect(restarted.restartCount).toBe(1);
    expect(isOpencode(restarted.pid!)).toBe(true);
    alpha = restarted;
  });

  it("leaves a running worker running on start, and stops and starts on request", async () => {
    const again = await runCli(home, ["worker", "start", "alpha"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("alpha is already running (idle)");

    const stopped = await cliJson<WorkerView>(home, ["worker", "stop", "alpha"]);
    expect(stopped).toMatchObject({ runState: "offline", desiredState: "stopped", pid: null, reason: "stopped" });
    expect(await waitForExit(alpha.pid!, 5000)).toBe(true);
    const stopAgain = await runCli(home, ["worker", "stop", "alpha"]);
    expect(stopAgain.code, stopAgain.stderr).toBe(0);
    expect(stopAgain.stdout).toContain("alpha is already stopped");

    alpha = await cliJson<WorkerView>(home, ["worker", "start", "alpha"]);
    expect(alpha.runState).toBe("idle");
    const restarted = await cliJson<WorkerView>(home, ["worker", "restart", "alpha"]);
    expect(restarted.runState).toBe("idle");
    expect(restarted.pid).not.toBe(alpha.pid);
    expect(isPidAlive(alpha.pid!)).toBe(false);
    alpha = restarted;
  });

  it("shows OpenCode's output with `worker logs`", async () => {
    const logs = await runCli(home, ["worker", "logs", "alpha", "-n", "400"]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain("opencode server listening on http://127.0.0.1:");
    expect(logs.stdout).toContain("--- ocfleet: OpenCode stopped");
  });

  it("ends a worker whose OpenCode cannot start in error, with a reason a person can act on", async () => {
    const result = await runCli(home, ["worker", "add", sandbox.project("nobinary"), "--opencode-bin", "/nonexistent/opencode", "--json"]);
    expect(result.code).toBe(1); // a worker that ends in error fails the command
    const missing = JSON.parse(result.stdout) as WorkerView;
    expect(missing.runState).toBe("error");
    expect(missing.reason).toBe("the OpenCode binary /nonexistent/opencode does not exist");

    const crasher = join(sandbox.root, "crashing-opencode");
    writeFileSync(crasher, "#!/bin/sh\necho 'fatal: cannot read config: permission denied' >&2\nexit 3\n");
    chmodSync(crasher, 0o755);
    const crashing = await runCli(home, ["worker", "add", sandbox.project("crashing"), "--opencode-bin", crasher, "--json"]);
    expect(crashing.code).toBe(1);
    const view = JSON.parse(crashing.stdout) as WorkerView;
    expect(view.runState).toBe("error");
    expect(view.reason).toMatch(/OpenCode failed 5 times in a row: opencode exited before it was ready \(code 3\)/);
    expect(view.reason).toContain("fatal: cannot read config: permission denied");
    expect(view.restartCount).toBe(4);

    for (const name of ["nobinary", "crashing"]) await cliJson(home, ["worker", "remove", name]);
    expect((await cliJson(home, ["worker", "list"])).map((w: WorkerView) => w.name)).toEqual(["alpha"]);
  });

  it("reaps the old OpenCode after the daemon is killed, and runs the worker again", async () => {
    const oldPid = alpha.pid!;
    const daemonPid = await killDaemon(home, "SIGKILL");
    expect(daemonPid).not.toBeNull();
    expect(isPidAlive(oldPid)).toBe(true); // orphaned, for now
    client.close();
    await startDaemon();
    client = await connect(home);
    expect(await waitForExit(oldPid, 5000)).toBe(true);
    alpha = await waitForWorker("alpha", (w) => w.runState === "idle");
    expect(alpha.pid).not.toBe(oldPid);
    expect(isOpencode(alpha.pid!)).toBe(true);
  });

  it("leaves no OpenCode process behind when the daemon stops, and brings the worker back at the next start", async () => {
    const pid = alpha.pid!;
    client.close();
    const stopped = await runCli(home, ["daemon", "stop", "--json"]);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ wasRunning: true });
    expect(isPidAlive(pid)).toBe(false);
    expect(daemonState(home)).toBeNull();

    await startDaemon();
    client = await connect(home);
    const back = await waitForWorker("alpha", (w) => w.runState === "idle");
    expect(back.pid).not.toBe(pid);
  });

  it("leaves no OpenCode behind when the daemon stops while a worker is still starting", async () => {
    const dir = sandbox.project("early");
    await client.call(api.workers.add, { directory: dir, name: "early", env: sandbox.env("early") });
    const spawned = await waitFor("its OpenCode process", () => opencodeIn(dir)[0], 10_000);
    client.close();
    expect((await runCli(home, ["daemon", "stop"])).code).toBe(0);
    expect(await waitForExit(spawned, 3000)).toBe(true);
    expect(opencodeIn(dir)).toEqual([]);
    await startDaemon();
    client = await connect(home);
    await cliJson(home, ["worker", "remove", "early"]);
    alpha = await waitForWorker("alpha", (w) => w.runState === "idle");
  });

  it("`worker remove` stops the worker and forgets it", async () => {
    const pid = alpha.pid!;
    expect(await cliJson(home, ["worker", "remove", "alpha"])).toEqual({ removed: true, id: alpha.id, name: "alpha", chatsKept: 0, schedulesRemoved: 0 });
    expect(await waitForExit(pid, 5000)).toBe(true);
    expect(await cliJson(home, ["worker", "list"])).toEqual([]);
    const gone = await runCli(home, ["worker", "models", "alpha"]);
    expect(gone.stderr).toContain("no worker 'alpha'");
  });
});
