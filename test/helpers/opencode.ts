// Test helpers for real OpenCode workers: a fake model on loopback, an isolated sandbox for
// OpenCode's HOME and XDG directories, and project directories to bind workers to.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WorkerView } from "../../src/protocol/api/index.js";
import { type FakeOpencodeConfig, FakeModel, fakeOpencodeEnv } from "../fixtures/fake-model.js";
import { cliJson } from "./daemon.js";

export interface OpencodeSandbox {
  model: FakeModel;
  root: string;
  /** A new empty project directory. */
  project(name: string): string;
  /** The environment overlay for a worker (each worker gets its own XDG data directory). */
  env(name: string, permission?: "allow" | "ask", config?: FakeOpencodeConfig): Record<string, string>;
  /** The same overlay written as an --env-file. */
  envFile(name: string, permission?: "allow" | "ask", config?: FakeOpencodeConfig): string;
  close(): Promise<void>;
}

export async function createOpencodeSandbox(): Promise<OpencodeSandbox> {
  const model = await new FakeModel().start();
  const root = mkdtempSync(join(tmpdir(), "ocf-oc-"));
  const sandbox: OpencodeSandbox = {
    model,
    root,
    project(name) {
      const dir = join(root, "projects", name);
      mkdirSync(dir, { recursive: true });
      return dir;
    },
    env(name, permission = "allow", config = {}) {
      return fakeOpencodeEnv({ sandbox: join(root, "opencode", name), modelUrl: model.baseUrl, permission, ...config });
    },
    envFile(name, permission = "allow", config = {}) {
      const path = join(root, `${name}.env`);
      writeFileSync(
        path,
        Object.entries(sandbox.env(name, permission, config))
          .map(([k, v]) => `${k}=${v}`)
          .join("\n") + "\n",
      );
      return path;
    },
    async close() {
      await model.close();
      // An OpenCode that was just stopped may still be flushing into its data directory.
      rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    },
  };
  return sandbox;
}

/**
 * Adds a worker through the real CLI on a sandbox project (named like the worker unless `project`
 * says otherwise; made if it is not there yet), talking to the sandbox's fake model; waits until it is idle.
 */
export function addSandboxWorker(
  home: string,
  sandbox: OpencodeSandbox,
  name: string,
  options: { project?: string; permission?: "allow" | "ask" } & FakeOpencodeConfig = {},
): Promise<WorkerView> {
  const { project = name, permission, ...config } = options;
  return cliJson<WorkerView>(home, ["worker", "add", sandbox.project(project), "--name", name, "--env-file", sandbox.envFile(project, permission, config)]);
}
