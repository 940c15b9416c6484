// An in-process hub for tests that drive the daemon's background work by hand: the real database
// with the real migrations, the real dispatcher, fleet, chat runtime and background jobs, and a
// clock the test moves. Nothing is faked; there is just no agent linked, so workers are offline.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createUser } from "../../src/daemon/accounts/users.js";
import { readAuthPolicy } from "../../src/daemon/accounts/policy.js";
import { machineFacts } from "../../src/daemon/agent/agent.js";
import type { ChatRuntime } from "../../src/daemon/chat/runtime.js";
import { newId, SecretKeeper } from "../../src/daemon/crypto.js";
import { migrate } from "../../src/daemon/db/migrate.js";
import { migrations } from "../../src/daemon/db/migrations/index.js";
import { openDatabase, type Db } from "../../src/daemon/db/open.js";
import type { Dispatcher } from "../../src/daemon/dispatch.js";
import type { Caller, CallerUser } from "../../src/daemon/functions/define.js";
import { registerLocalMachine } from "../../src/daemon/model/machines.js";
import { DEFAULT_CLEANUP, type BackgroundJobs, type CleanupSettings } from "../../src/daemon/jobs/index.js";
import { wireDaemonCore } from "../../src/daemon/core.js";
import { createLogger } from "../../src/daemon/log.js";
import { statePaths } from "../../src/protocol/statefile.js";
import type { MethodRef, ArgsOf, ResultOf } from "../../src/protocol/api/index.js";

export interface TestHub {
  db: Db;
  dispatcher: Dispatcher;
  jobs: BackgroundJobs;
  chat: ChatRuntime;
  /** The clock every part of the hub reads. */
  clock: { now: number };
  /** A new user and a caller signed in as them. */
  user(name: string, level?: CallerUser["level"]): Caller & { user: CallerUser };
  /** A worker on this machine (offline: no agent is linked), shared with everyone. */
  worker(name: string): string;
  call<M extends MethodRef>(caller: Caller, ref: M, args: ArgsOf<M>): Promise<ResultOf<M>>;
  close(): void;
}

export function createTestHub(startAt: number, options: { cleanup?: Partial<CleanupSettings> } = {}): TestHub {
  const home = mkdtempSync(join(tmpdir(), "ocf-hub-"));
  const paths = statePaths(home);
  const db = openDatabase(paths.db);
  migrate(db, migrations, { dbPath: paths.db });
  const log = createLogger({ file: paths.log, echo: false });
  const secrets = SecretKeeper.loadOrCreate(paths.secretKey);
  const clock = { now: startAt };
  const now = () => clock.now;
  const { dispatcher, chat, jobs } = wireDaemonCore({
    db,
    paths,
    log,
    secrets,
    authPolicy: readAuthPolicy({}),
    startedAt: startAt,
    chat: { maxRetries: 1, inactiveAfterMs: 60_000 },
    cleanup: { ...DEFAULT_CLEANUP, ...options.cleanup },
    process: {
      listenAddress: () => ({ host: "127.0.0.1", port: 0 }),
      connectionStats: () => ({ connections: 0, subscriptions: 0 }),
      requestStop: () => {},
    },
    now,
  });
  const machineId = dispatcher.runInternalMutation(registerLocalMachine, machineFacts());
  jobs.attach(); // no timers: the test ticks
  let connectionId = 0;

  return {
    db,
    dispatcher,
    jobs,
    chat,
    clock,
    user(name, level = "user") {
      const row = createUser(db, { name, level, anonymous: true, now: clock.now });
      const user: CallerUser = { id: row.id, name: row.name, level: row.level };
      const id = ++connectionId;
      return {
        connectionId: id,
        local: false,
        source: "127.0.0.1",
        user,
        session: null,
        identity: `test:${row.id}`,
        dependencies: [],
        connection: { id, clientName: "test", bindSession: () => {} },
      };
    },
    worker(name) {
      const id = newId("worker");
      db.prepare(
        `INSERT INTO workers (id, machine_id, name, directory, approval, desired_state, run_state, state_changed_at, shared_with_everyone, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'approved', 'stopped', 'offline', ?, 1, ?, ?)`,
      ).run(id, machineId, name, join(home, name), clock.now, clock.now, clock.now);
      return id;
    },
    call: (caller, ref, args) => dispatcher.call(caller, ref.name, args) as Promise<ResultOf<typeof ref>>,
    close() {
      jobs.stop();
      chat.stop();
      db.close();
      log.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
