// What the agent sends the hub is cut to fit the hub's frame limits (hub/fit.ts), never refused:
// a report too large would close the link at every resend. The depth side is in json-depth.test.ts.
import { describe, expect, it } from "vitest";
import { fitForHub, MAX_SENT_BYTES } from "../../src/daemon/hub/fit.js";

describe("fitForHub: frames the hub reads whole", () => {
  const report = (text: string, extra: Record<string, string> = {}) => ({
    type: "worker.event",
    workerId: "wrk_1",
    at: 1,
    event: { type: "part.updated", sessionId: "ses_1", part: { id: "prt_1", messageId: "msg_1", kind: "text", text, ...extra } },
  });
  const bytes = (text: string) => Buffer.byteLength(text);

  it("cuts a text megabytes long to what the hub takes, says so at the cut, and keeps the rest of the report", () => {
    const text = "lighthouse ".repeat(900_000); // 9.9 MB
    const body = fitForHub(report(text, { title: "short" }), 1).json;
    expect(bytes(body)).toBeLessThanOrEqual(MAX_SENT_BYTES);
    expect(bytes(body)).toBeGreaterThan(MAX_SENT_BYTES - 1024); // cut to fit, not far below
    const sent = JSON.parse(body);
    expect(sent).toMatchObject({ type: "worker.event", workerId: "wrk_1", event: { part: { id: "prt_1", title: "short" } } });
    expect(text.startsWith(sent.event.part.text.replace(/…\[cut: .*$/, ""))).toBe(true);
    expect(sent.event.part.text).toMatch(/…\[cut: \d+ more characters did not fit in a frame to the hub\]$/);
  });

  it("fits text whose characters are several bytes each, or escaped, and several long strings", () => {
    for (const unit of ["🦀", "é", '"\\\n', "\u0001"]) {
      const body = fitForHub(report(unit.repeat(Math.ceil(9_000_000 / bytes(unit)))), 1).json;
      expect(bytes(body), unit).toBeLessThanOrEqual(MAX_SENT_BYTES);
      expect(() => JSON.parse(body)).not.toThrow();
    }
    const three = fitForHub(report("a".repeat(4_000_000), { output: "b".repeat(4_000_000), error: "c".repeat(4_000_000) }), 1).json;
    expect(bytes(three)).toBeLessThanOrEqual(MAX_SENT_BYTES);
    expect(JSON.parse(three).event.part.text.length).toBeGreaterThan(1000);
  });

  it("sends a report that fits as it is, byte for byte", () => {
    const fits = report("é".repeat(MAX_SENT_BYTES / 2 - 1000));
    expect(fitForHub(fits, 1)).toEqual({ json: JSON.stringify(fits), cut: false });
  });
});
