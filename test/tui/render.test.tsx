import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import type { ChatSummary, MachineView, MessageView, WorkerView } from "../../src/protocol/api/index.js";
import { Lines } from "../../src/tui/components/Lines.js";
import { buildTree, Sidebar } from "../../src/tui/components/Sidebar.js";
import { messageBlocks, splitTranscript } from "../../src/tui/render/blocks.js";
import { splitParagraphs } from "../../src/tui/render/markdown.js";
import { textWidth, wrap } from "../../src/tui/render/lines.js";

const strip = (s: string | undefined) => (s ?? "").replace(/\x1b\[[0-9;]*m/g, "");

function message(overrides: Partial<MessageView>): MessageView {
  return {
    id: "msg_a" as MessageView["id"],
    chatId: "cht_a" as MessageView["chatId"],
    role: "assistant",
    status: "completed",
    replyTo: null,
    parts: [],
    model: "fake/fake-model",
    tokens: { input: 12, output: 7, reasoning: 0, cacheRead: 0, cacheWrite: 0 },
    cost: 0,
    error: null,
    createdAt: Date.UTC(2026, 10, 26, 12, 0, 0),
    completedAt: Date.UTC(2026, 10, 26, 12, 0, 1),
    ...overrides,
  };
}

function show(m: MessageView, options = { showReasoning: false, showToolOutput: true }, width = 60): string {
  const lines = messageBlocks(m, options).flatMap((b) => b.lines(width));
  return strip(render(<Lines lines={lines} />).lastFrame());
}

describe("the chat transcript", () => {
  it("renders light markdown: headings, lists, code kept as typed, inline code", () => {
    const text = "# Plan\n\n- first **step**\n- second `npm test`\n\n```ts\nconst x  =  1;\n```\n\nDone.";
    const out = show(message({ parts: [{ id: "p1", kind: "text", text }] }));
    expect(out).toContain("Plan");
    expect(out).toContain("• first step");
    expect(out).toContain("• second npm test");
    expect(out).toContain("  const x  =  1;"); // spacing kept inside code
    expect(out).toContain("Done.");
    expect(out).toContain("fake/fake-model · 12 in / 7 out · 1.0 s");
  });

  it("shows the user's message with its marker", () => {
    expect(show(message({ role: "user", status: "sent", parts: [{ id: "text", kind: "text", text: "fix the build" }] }))).toContain("› fix the build");
  });

  it("dims reasoning and keeps it collapsed until asked", () => {
    const m = message({ parts: [{ id: "r", kind: "reasoning", text: "first I think\nthen I act" }] });
    expect(show(m)).toContain("💭 thought (2 lines; Ctrl+R shows it)");
    const open = show(m, { showReasoning: true, showToolOutput: true });
    expect(open).toContain("first I think");
    expect(open).toContain("then I act");
  });

  it("shows each tool call on one line with its status, and its output when asked", () => {
    const tool = (status: "running" | "completed" | "error", extra = {}) =>
      message({
        parts: [
          {
            id: "t",
            kind: "tool",
            tool: "bash",
            callId: "c",
            status,
            title: null,
            input: { command: "npm test" },
            output: "ok 1\nok 2",
            error: null,
            ...extra,
          },
        ],
      });
    expect(show(tool("running"))).toContain("◌ bash npm test");
    const done = show(tool("completed"));
    expect(done).toContain("✓ bash npm test");
    expect(done).toContain("│ ok 2");
    expect(show(tool("completed"), { showReasoning: false, showToolOutput: false })).not.toContain("ok 2");
    expect(show(tool("error", { error: "exit code 1" }))).toMatch(/✗ bash npm test[\s\S]*exit code 1/);
  });

  it("shows patches and files, and how a reply ended", () => {
    expect(show(message({ parts: [{ id: "p", kind: "patch", files: ["a.ts", "b.ts"] }] }))).toContain("✎ changed a.ts, b.ts");
    expect(show(message({ parts: [{ id: "f", kind: "file", filename: "shot.png", mime: "image/png" }] }))).toContain("📎 shot.png (image/png)");
    expect(show(message({ status: "error", error: { name: "APIError", message: "bad request" } }))).toContain("✗ bad request");
    expect(show(message({ status: "aborted" }))).toContain("■ stopped");
    expect(show(message({ status: "interrupted", error: { name: "Interrupted", message: "the daemon stopped" } }))).toContain(
      "⚠ interrupted: the daemon stopped",
    );
  });

  it("keeps a streaming reply's last paragraph live and earlier ones final, never splitting a code block", () => {
    expect(splitParagraphs("one\n\ntwo\n\nthr")).toEqual(["one", "two", "thr"]);
    expect(splitParagraphs("one\n")).toEqual(["one\n"]); // a single newline does not end a paragraph yet
    expect(splitParagraphs("```\na\n\nb\n```\n\nc")).toEqual(["```\na\n\nb\n```", "c"]);
    const streaming = message({ status: "streaming", completedAt: null, parts: [{ id: "p", kind: "text", text: "one\n\ntwo\n\nthr" }] });
    const { all, finalCount } = splitTranscript([], streaming, { showReasoning: false, showToolOutput: true });
    expect(all.map((b) => `${b.id}:${b.final}`)).toEqual(["msg_a:head:true", "msg_a:p:0:true", "msg_a:p:1:true", "msg_a:p:2:false"]);
    expect(finalCount).toBe(3);
    // The same reply, finished: the same block ids, now all final, plus the footer.
    const done = splitTranscript([{ ...streaming, status: "completed", completedAt: streaming.createdAt + 10 }], null, {
      showReasoning: false,
      showToolOutput: true,
    });
    expect(done.all.slice(0, 4).map((b) => b.id)).toEqual(all.map((b) => b.id));
    expect(done.finalCount).toBe(done.all.length);
  });

  it("wraps to the width, counting wide characters as two columns", () => {
    const lines = wrap([{ text: "你好世界 hello world again and again" }], 10);
    for (const line of lines) expect(line.reduce((n, s) => n + textWidth(s.text), 0)).toBeLessThanOrEqual(10);
    expect(lines.map((l) => l.map((s) => s.text).join("")).join(" ")).toContain("hello");
  });
});

describe("the sidebar", () => {
  const machine = (id: string, online: boolean): MachineView => ({
    id: id as MachineView["id"],
    name: id,
    hostname: id,
    platform: "linux",
    release: "6",
    arch: "x64",
    agentVersion: "0.1.0",
    isLocal: id === "laptop",
    approval: "approved",
    online,
    rttMs: null,
    versionMatches: true,
    approvalReason: null,
    lastHeartbeatAt: 0,
    workers: { total: 0, running: 0, active: 0, error: 0 },
  });
  const worker = (id: string, machineId: string, runState: WorkerView["runState"]) =>
    ({ id, name: id, machineId, machineName: machineId, directory: `/src/${id}`, runState }) as unknown as WorkerView;
  const chat = (id: string, workerId: string, extra: Partial<ChatSummary> = {}) =>
    ({ id, title: `chat ${id}`, workerId, archived: false, busy: false, pendingRequests: 0, state: "active", ...extra }) as unknown as ChatSummary;

  const machines = [machine("laptop", true), machine("server", false)];
  const workers = [worker("api", "laptop", "active"), worker("web", "laptop", "error"), worker("db", "server", "offline")];
  const chats = [chat("c1", "api", { busy: true }), chat("c2", "api", { pendingRequests: 2 }), chat("c3", "web", { archived: true })];

  it("lists machines, then their workers, then their chats; collapsing hides children", () => {
    expect(buildTree(machines, workers, chats, new Set()).map((i) => i.id)).toEqual(["laptop", "api", "c1", "c2", "web", "server", "db"]);
    expect(buildTree(machines, workers, chats, new Set(["api", "server"])).map((i) => i.id)).toEqual(["laptop", "api", "web", "server"]);
  });

  it("shows live badges: online or offline, run states, streaming, waiting for permission", () => {
    const items = buildTree(machines, workers, chats, new Set());
    const out = strip(render(<Sidebar items={items} selectedId="api" height={12} width={36} focused />).lastFrame());
    expect(out).toMatch(/● laptop \(here\)/);
    expect(out).toMatch(/○ offline server/);
    expect(out).toMatch(/■ api active/);
    expect(out).toMatch(/■ web error/);
    expect(out).toMatch(/chat c1 ⏵/);
    expect(out).toMatch(/chat c2 ⏸2/);
    expect(out).not.toContain("chat c3");
  });
});
