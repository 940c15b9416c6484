// The grouping rule (which workers share an OpenCode process) and how a shared process's events,
// output lines and tools find their worker.
import { describe, expect, it } from "vitest";
import type { WorkerSpec } from "../../src/daemon/agent/link.js";
import { ProcessGroup, processKey } from "../../src/daemon/agent/process-group.js";

const binary = { path: "/usr/bin/opencode", source: "path" as const };
const spec = (id: string, directory: string, env: Record<string, string> = {}, isolated = false): WorkerSpec => ({
  id,
  directory,
  env,
  opencodeBinary: null,
  isolated,
});

describe("processKey", () => {
  it("groups workers with the same binary and environment overlay, whatever the order of its variables", () => {
    const a = processKey(spec("w1", "/a", { A: "1", B: "2" }), binary, false);
    expect(processKey(spec("w2", "/b", { B: "2", A: "1" }), binary, false)).toBe(a);
    expect(processKey(spec("w3", "/c", { A: "1", B: "3" }), binary, false)).not.toBe(a);
    expect(processKey(spec("w4", "/d", { A: "1", B: "2" }), { path: "/other/opencode", source: "setting" }, false)).not.toBe(a);
  });

  it("gives an isolated worker, or every worker when the machine says so, a key of its own", () => {
    const shared = processKey(spec("w1", "/a"), binary, false);
    expect(processKey(spec("w2", "/b", {}, true), binary, false)).not.toBe(shared);
    expect(processKey(spec("w1", "/a"), binary, true)).not.toBe(processKey(spec("w2", "/b"), binary, true));
    expect(processKey(spec("w1", "/a"), binary, true)).toBe(processKey(spec("w1", "/a", {}, true), binary, false));
  });
});

describe("ProcessGroup routing", () => {
  const group = new ProcessGroup<{ spec: WorkerSpec }>("k", binary, {}, (id) => `/state/worktrees/${id}`);
  const outer = { spec: spec("outer", "/code") };
  const inner = { spec: spec("inner", "/code/api") };
  const other = { spec: spec("other", "/srv/web") };
  for (const m of [outer, inner, other]) group.members.set(m.spec.id, m);

  it("gives a directory to the deepest worker that serves it, and a worktree to its worker", () => {
    expect(group.ownerOf("/code")).toBe(outer);
    expect(group.ownerOf("/code/docs")).toBe(outer);
    expect(group.ownerOf("/code/api/src")).toBe(inner);
    expect(group.ownerOf("/code/apiary")).toBe(outer);
    expect(group.ownerOf("/state/worktrees/other/chat_1")).toBe(other);
    expect(group.ownerOf("/elsewhere")).toBeNull();
    expect(group.ownerOf(null)).toBeNull();
  });

  it("gives an output line to the worker whose directory it names, and none to a line that names none", () => {
    expect(group.ownerOfLine("level=INFO message=bootstrapping directory=/code/api")).toBe(inner);
    expect(group.ownerOfLine("level=INFO message=bootstrapping directory=/code")).toBe(outer);
    expect(group.ownerOfLine("level=INFO message=bootstrapping directory=/code/apiary")).toBe(outer);
    expect(group.ownerOfLine("level=INFO message=bootstrapping directory=/codex")).toBeNull();
    expect(group.ownerOfLine("opencode server listening on http://127.0.0.1:4096")).toBeNull();
  });

  it("gives everything to a worker alone in its process", () => {
    const solo = new ProcessGroup<{ spec: WorkerSpec }>("s", binary, {}, (id) => `/state/worktrees/${id}`);
    solo.members.set(outer.spec.id, outer);
    expect(solo.ownerOf("/tmp")).toBe(outer);
    expect(solo.ownerOf(null)).toBe(outer);
  });
});
