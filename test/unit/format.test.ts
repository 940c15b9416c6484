import { describe, expect, it } from "vitest";
import type { MessageView } from "../../src/protocol/api/index.js";
import { formatReplyFooter } from "../../src/terminal/format.js";

const reply = (overrides: Partial<MessageView>): MessageView =>
  ({
    id: "msg_x",
    role: "assistant",
    status: "completed",
    parts: [],
    model: "fake/fake-model",
    tokens: { input: 12, output: 7 },
    cost: 0,
    error: null,
    createdAt: 1_000,
    completedAt: 2_000,
    ...overrides,
  }) as MessageView;

describe("a reply's footer (one format for the CLI and the TUI)", () => {
  it("says the model, tokens, cost when there is one, and time", () => {
    expect(formatReplyFooter(reply({}))).toEqual({ text: "fake/fake-model · 12 in / 7 out · 1.0 s" });
    expect(formatReplyFooter(reply({ cost: 0.0123, completedAt: 1_420 })).text).toBe("fake/fake-model · 12 in / 7 out · $0.0123 · 420 ms");
  });

  it("leads with how a reply that did not complete ended, coloured by how bad it is", () => {
    expect(formatReplyFooter(reply({ status: "error", error: { name: "APIError", message: "bad request" } }))).toMatchObject({
      text: expect.stringMatching(/^✗ bad request · /),
      tone: "red",
    });
    expect(formatReplyFooter(reply({ status: "aborted" }))).toMatchObject({ text: expect.stringMatching(/^■ stopped · /), tone: "yellow" });
    expect(formatReplyFooter(reply({ status: "interrupted", error: { name: "Interrupted", message: "the daemon stopped" } })).text).toMatch(
      /^⚠ interrupted: the daemon stopped · /,
    );
  });

  it("shows a provider's error text safely", () => {
    const footer = formatReplyFooter(reply({ status: "error", error: { name: "APIError", message: "bad\x1b]0;owned\x07\nrequest" } }));
    expect(footer.text).toMatch(/^✗ bad\^\[\]0;owned\^G⏎request · /);
  });
});
