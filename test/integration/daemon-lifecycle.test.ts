import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "../../src/daemon/db/sqlite-driver.js";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { EXIT_STATE_UNUSABLE } from "../../src/protocol/exit-codes.js";
import { isPidAlive, waitForExit } from "../../src/platform/processes.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../../src/protocol/version.js";
import { cleanupHomes, cliJson, createHome, daemonState, killDaemon, REPO_ROOT, runCli, waitFor } from "../helpers/daemon.js";

afterEach(cleanupHomes);

const mode = (path: string) => statSync(path).mode & 0o777;

describe("daemon lifecycle", () => {
  it("starts on demand for any command, with private state files", async () => {
    const home = createHome();
    const added = await runCli(home, ["checklist", "add", "todo", "first"]);
    expect(added.stderr).toBe("");
    expect(added.code).toBe(0);
    const state = daemonState(home)!;
    expect(state).toMatchObject({ version: PACKAGE_VERSION, protocol: PROTOCOL_VERSION, host: "127.0.0.1" });
    expect(state.token.length).toBeGreaterThanOrEqual(40);
    expect(isPidAlive(state.pid)).toBe(true);
    expect(mode(home)).toBe(0o700);
    for (const file of ["daemon.json", "secret.key", "state.db", "daemon.log"]) expect(mode(join(home, file)), file).toBe(0o600);
  });

  it("reports status and version as JSON, and says when no daemon runs", async () => {
    const home = createHome();
    const before = await runCli(home, ["daemon", "status", "--json"]);
    expect(before.code).toBe(3);
    expect(JSON.parse(before.stdout)).toEqual({ running: false, stateDir: home });
    expect(await cliJson(home, ["version"])).toEqual({ version: PACKAGE_VERSION, protocol: PROTOCOL_VERSION, stateDir: home, daemon: { running: false } });

    const started = await cliJson(home, ["daemon", "start"]);
    expect(started).toMatchObject({ running: true, version: PACKAGE_VERSION, stateDir: home, listen: { host: "127.0.0.1" } });
    const status = await cliJson(home, ["daemon", "status"]);
    expect(status.pid).toBe(started.pid);
    expect(status.uptimeMs).toBeGreaterThanOrEqual(0);
    expect(status.db).toMatchObject({ path: join(home, "state.db"), schemaVersion: expect.any(Number) });
    expect(status.db.sizeBytes).toBeGreaterThan(0);
    const version = await cliJson(home, ["version"]);
    expect(version.daemon).toMatchObject({ running: true, version: PACKAGE_VERSION, pid: started.pid });
  });

  it("refuses to run a second daemon on the same state directory", async () => {
    const home = createHome();
    await cliJson(home, ["daemon", "start"]);
    const first = daemonState(home)!;
    const second = await runCli(home, ["daemon", "run"]);
    expect(second.code).toBe(3);
    expect(second.stderr).toContain(`already running for ${home} (pid ${first.pid}`);
    expect(daemonState(home)).toEqual(first); // the running daemon's state file is untouched
  });

  it("stops gracefully on SIGTERM: exit 0, state file removed", async () => {
    const home = createHome();
    const child = spawn(process.execPath, [join(REPO_ROOT, "bin/ocfleet.js"), "daemon", "run", "--background"], {
      env: { ...process.env, OCFLEET_HOME: home },
      stdio: "ignore",
    });
    await waitFor("daemon.json", () => daemonState(home));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(daemonState(home)).toBeNull();
    expect(readFileSync(join(home, "daemon.log"), "utf8")).toMatch(/daemon stopping reason=SIGTERM[\s\S]*daemon stopped/);
  });

  it("`daemon stop` stops it, and the next command starts a new one", async () => {
    const home = createHome();
    const { pid } = await cliJson(home, ["daemon", "start"]);
    expect(await cliJson(home, ["daemon", "stop"])).toEqual({ wasRunning: true, pid });
    expect(isPidAlive(pid)).toBe(false);
    expect(await cliJson(home, ["daemon", "stop"])).toEqual({ wasRunning: false, pid: null });
    await cliJson(home, ["checklist", "list"]);
    expect(daemonState(home)!.pid).not.toBe(pid);
  });

  it("replaces a state file whose pid is dead", async () => {
    const home = createHome();
    const dead = spawn(process.execPath, ["-e", "0"]);
    await new Promise((resolve) => dead.once("exit", resolve));
    writeFileSync(
      join(home, "daemon.json"),
      JSON.stringify({ pid: dead.pid, host: "127.0.0.1", port: 9, version: PACKAGE_VERSION, protocol: PROTOCOL_VERSION, token: "stale", startedAt: 0 }),
      { mode: 0o600 },
    );
    const result = await runCli(home, ["checklist", "list", "--json"]);
    expect(result.code).toBe(0);
    expect(daemonState(home)!.pid).not.toBe(dead.pid);
  });

  it("replaces a state file whose pid was reused by another program, without killing that program", async () => {
    const home = createHome();
    const stranger = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      writeFileSync(
        join(home, "daemon.json"),
        JSON.stringify({ pid: stranger.pid, host: "127.0.0.1", port: 9, version: PACKAGE_VERSION, protocol: PROTOCOL_VERSION, token: "x", startedAt: 0 }),
        { mode: 0o600 },
      );
      const result = await runCli(home, ["daemon", "start", "--json"]);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout).pid).not.toBe(stranger.pid);
      expect(isPidAlive(stranger.pid!)).toBe(true);
      // `daemon stop` on a state file that points at the stranger must not kill it either.
      await killDaemon(home, "SIGKILL");
      writeFileSync(
        join(home, "daemon.json"),
        JSON.stringify({ pid: stranger.pid, host: "127.0.0.1", port: 9, version: PACKAGE_VERSION, protocol: PROTOCOL_VERSION, token: "x", startedAt: 0 }),
      );
      expect(await cliJson(home, ["daemon", "stop"])).toEqual({ wasRunning: false, pid: null });
      expect(isPidAlive(stranger.pid!)).toBe(true);
    } finally {
      stranger.kill("SIGKILL");
    }
  });

  it("shows the last lines of the daemon log when the daemon cannot start", async () => {
    const home = createHome();
    const db = new Database(join(home, "state.db"));
    db.pragma("user_version = 99");
    db.close();
    const result = await runCli(home, ["checklist", "list"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the daemon exited during start/);
    expect(result.stderr).toMatch(/schema version 99, but this ocfleet knows only up to \d+\. Upgrade ocfleet/);
  });
});

describe("a daemon of another version", () => {
  const oldBuilds: string[] = [];
  afterAll(() => oldBuilds.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  /** A copy of this package that calls itself another version: a real older daemon, no test hooks. */
  function buildOtherVersion(version: string): string {
    const dir = mkdtempSync(join(tmpdir(), "ocf-old-build-"));
    oldBuilds.push(dir);
    mkdirSync(join(dir, "bin"));
    cpSync(join(REPO_ROOT, "bin"), join(dir, "bin"), { recursive: true });
    cpSync(join(REPO_ROOT, "dist"), join(dir, "dist"), { recursive: true });
    symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ ...pkg, version }));
    return dir;
  }

  it("is asked to stop and replaced by the current one", async () => {
    const home = createHome();
    const old = buildOtherVersion("0.0.1-old");
    const oldDaemon = spawn(process.execPath, [join(old, "bin/ocfleet.js"), "daemon", "run", "--background"], {
      env: { ...process.env, OCFLEET_HOME: home },
      stdio: "ignore",
      detached: true,
    });
    const oldState = await waitFor("the old daemon", () => daemonState(home));
    expect(oldState.version).toMatch(/^0\.0\.1-old\+/); // the version, plus the build's hash
    expect((await cliJson(home, ["version"])).daemon.version).toBe(oldState.version); // `version` never replaces

    const result = await runCli(home, ["checklist", "add", "k", "after upgrade", "--json"]);
    expect(result.code).toBe(0);
    expect(await waitForExit(oldDaemon.pid!, 5000)).toBe(true);
    const state = daemonState(home)!;
    expect(state.version).toBe(PACKAGE_VERSION);
    expect(state.pid).not.toBe(oldState.pid);
    expect(readFileSync(join(home, "daemon.log"), "utf8")).toMatch(/daemon stopping reason="requested by/);
  });
});

describe("a state file that exists but is not usable", () => {
  it("is refused, never replaced: an empty state.db or one that is not a database stops the daemon with a distinct exit code", async () => {
    for (const [content, problem] of [
      ["", "is empty (0 bytes)"],
      ["this is not a database at all", "is not an SQLite database"],
    ] as const) {
      const home = createHome();
      const db = join(home, "state.db");
      writeFileSync(db, content);
      const run = await runCli(home, ["daemon", "run"], { timeoutMs: 20_000 });
      expect(run.code).toBe(EXIT_STATE_UNUSABLE);
      expect(run.stderr).toContain(`the state file ${db} ${problem}`);
      expect(run.stderr).toContain(`mv ${db} ${db}.broken`);
      // An ordinary command says the same and leaves the file as it was.
      const whoami = await runCli(home, ["whoami"], { timeoutMs: 30_000 });
      expect(whoami.code).not.toBe(0);
      expect(whoami.stderr).toContain(problem);
      expect(readFileSync(db, "utf8")).toBe(content);
    }
  });
});
