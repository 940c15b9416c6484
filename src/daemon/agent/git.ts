// The agent's git work for worktree chats: creating and removing a chat's worktree, its diff against
// the commit it branched from, and applying that diff to the worker's checkout. Always the real
// `git` through execa with arguments as arrays; nothing here commits, pushes or makes any branch but
// the worktree's own.
import { mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { execa } from "execa";
import { FleetError } from "../../protocol/errors.js";

export interface WorktreeSpec {
  /** The worker's directory (a repository, or a directory inside one). */
  workerDirectory: string;
  /** Where worktrees of this worker live: owned by the daemon. */
  root: string;
  /** Names the worktree's directory under root. */
  name: string;
  branch: string;
  from: string | null;
}

export interface Worktree {
  /** The worktree's top level. */
  path: string;
  /** The directory OpenCode works in: the worker's directory, inside the worktree. */
  directory: string;
  branch: string;
  /** The commit it branched from. */
  base: string;
}

export interface WorktreeDiff {
  patch: string;
  stat: string;
  files: Array<{ path: string; added: number; removed: number }>;
}

/** Runs git in `cwd`; its stdout, or null when it exits non-zero (with stderr in `failure`). */
async function git(cwd: string, args: string[], options: { env?: Record<string, string>; input?: string } = {}) {
  const result = await execa("git", args, {
    cwd,
    reject: false,
    stripFinalNewline: false,
    ...(options.env ? { env: options.env } : {}),
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
  return { ok: result.exitCode === 0, stdout: String(result.stdout), stderr: String(result.stderr).trim() };
}

async function must(cwd: string, args: string[], what: string, options: { env?: Record<string, string>; input?: string } = {}): Promise<string> {
  const result = await git(cwd, args, options);
  if (!result.ok) throw new FleetError("internal", `${what} failed: ${result.stderr.split("\n")[0] ?? "git failed"}`);
  return result.stdout;
}

/** The repository's top level, or a clear refusal for a directory that is not in one. */
async function topLevel(directory: string): Promise<string> {
  const result = await git(directory, ["rev-parse", "--show-toplevel"]);
  if (!result.ok)
    throw new FleetError("failed_precondition", `${directory} is not a git repository, so its chats cannot have worktrees; create the chat without --worktree`);
  return result.stdout.trim();
}

/** Refuses a branch name git would not take (or one that could pass for an option). */
export async function checkBranchName(cwd: string, branch: string): Promise<void> {
  const valid = !branch.startsWith("-") && (await git(cwd, ["check-ref-format", "--branch", branch])).ok;
  if (!valid) throw new FleetError("invalid_argument", `'${branch}' is not a valid branch name; see: git check-ref-format --help`, { field: "branch" });
}

export async function createWorktree(spec: WorktreeSpec): Promise<Worktree> {
  const top = await topLevel(spec.workerDirectory);
  await checkBranchName(top, spec.branch);
  if (spec.from?.startsWith("-")) throw new FleetError("invalid_argument", `'${spec.from}' is not a commit or branch`, { field: "from" });
  const resolved = await git(top, ["rev-parse", "--verify", "--quiet", `${spec.from ?? "HEAD"}^{commit}`]);
  if (!resolved.ok) {
    const what = spec.from ? `'${spec.from}' is not a commit or branch of ${top}` : `${top} has no commit yet; commit once before using --worktree`;
    throw new FleetError(spec.from ? "invalid_argument" : "failed_precondition", what, { field: "from" });
  }
  const base = resolved.stdout.trim();
  if ((await git(top, ["show-ref", "--verify", "--quiet", `refs/heads/${spec.branch}`])).ok)
    throw new FleetError("already_exists", `branch '${spec.branch}' exists already in ${top}; choose another with --branch`, { field: "branch" });
  mkdirSync(spec.root, { recursive: true, mode: 0o700 });
  const path = join(spec.root, spec.name);
  const added = await git(top, ["worktree", "add", "-b", spec.branch, "--", path, base]);
  if (!added.ok) throw new FleetError("internal", `git worktree add failed: ${added.stderr.split("\n").pop()}`);
  return { path, directory: join(path, relative(top, spec.workerDirectory)), branch: spec.branch, base };
}

/** Whether a worktree holds changes that are not committed (untracked files count). */
async function hasUncommitted(path: string): Promise<boolean> {
  return (await must(path, ["status", "--porcelain"], "git status")).trim().length > 0;
}

/** Removes a chat's worktree; refuses one with uncommitted changes unless forced. Its branch stays. */
export async function removeWorktree(args: { workerDirectory: string; path: string; force: boolean }): Promise<void> {
  const top = await topLevel(args.workerDirectory);
  if ((await git(args.path, ["rev-parse", "--git-dir"])).ok) {
    if (!args.force && (await hasUncommitted(args.path)))
      throw new FleetError("failed_precondition", `the worktree ${args.path} has uncommitted changes; apply them first (ocfleet chat apply) or add --force`);
    const removed = await git(top, ["worktree", "remove", ...(args.force ? ["--force"] : []), "--", args.path]);
    if (!removed.ok) throw new FleetError("internal", `git worktree remove failed: ${removed.stderr.split("\n").pop()}`);
  } else {
    rmSync(args.path, { recursive: true, force: true });
    await git(top, ["worktree", "prune"]);
  }
}

/**
 * The worktree's state as a tree: committed and uncommitted work, untracked files too (as `git add
 * -A` would see them, .gitignore respected), written through a scratch index so the worktree's own
 * index is never touched.
 */
async function stateTree(path: string): Promise<string> {
  const index = join(tmpdir(), `ocfleet-index-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const env = { GIT_INDEX_FILE: index };
  try {
    await must(path, ["read-tree", "HEAD"], "git read-tree", { env });
    await must(path, ["add", "-A"], "git add", { env });
    return (await must(path, ["write-tree"], "git write-tree", { env })).trim();
  } finally {
    rmSync(index, { force: true });
  }
}

/** What changed in a worktree since it branched: a patch (never coloured: the client colours what it printed safely), its stat and per-file counts. */
export async function diffWorktree(args: { path: string; base: string }): Promise<WorktreeDiff> {
  const tree = await stateTree(args.path);
  const [patch, stat, numstat] = await Promise.all([
    must(args.path, ["diff", "--no-color", args.base, tree], "git diff"),
    must(args.path, ["diff", "--stat", "--no-color", args.base, tree], "git diff --stat"),
    must(args.path, ["diff", "--numstat", args.base, tree], "git diff --numstat"),
  ]);
  const files = numstat
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [added, removed, ...rest] = line.split("\t");
      return { path: rest.join("\t"), added: Number(added) || 0, removed: Number(removed) || 0 };
    });
  return { patch, stat, files };
}

/**
 * Applies a worktree's changes to the worker's checkout, uncommitted and unstaged. Checked first, so
 * a conflict changes nothing and says which files.
 */
export async function applyWorktree(args: { workerDirectory: string; path: string; base: string }): Promise<{ files: string[] }> {
  const top = await topLevel(args.workerDirectory);
  const tree = await stateTree(args.path);
  const patch = await must(args.path, ["diff", "--binary", "--no-color", args.base, tree], "git diff");
  if (!patch.trim()) return { files: [] };
  const check = await git(top, ["apply", "--check", "--whitespace=nowarn"], { input: patch });
  if (!check.ok) {
    const conflicts = [...check.stderr.matchAll(/error: (?:patch failed: )?([^:\n]+)/g)].map((m) => m[1]).slice(0, 3);
    throw new FleetError(
      "failed_precondition",
      `the changes do not apply cleanly to ${top}${conflicts.length ? ` (${conflicts.join(", ")})` : ""}; commit or stash your changes there, or merge the branch yourself`,
    );
  }
  await must(top, ["apply", "--whitespace=nowarn"], "git apply", { input: patch });
  const files = (await must(args.path, ["diff", "--name-only", args.base, tree], "git diff --name-only")).split("\n").filter(Boolean);
  return { files };
}
