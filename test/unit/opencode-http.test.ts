// The adapter's HTTP transport against a real HTTP server on loopback standing in for OpenCode's:
// where the directory goes, what a failed request returns, and the event stream read across
// chunk boundaries. (Against the real OpenCode, every e2e test with a worker.)
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeHttpError, OpencodeHttp } from "../../src/daemon/agent/opencode-http.js";

let server: Server;
let http: OpencodeHttp;
const seen: Array<{ method: string; url: string; directory: string | undefined; authorization: string | undefined; body: string }> = [];
let onEvents: (res: ServerResponse) => void = () => {};

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      seen.push({
        method: req.method!,
        url: req.url!,
        directory: req.headers["x-opencode-directory"] as string | undefined,
        authorization: req.headers.authorization,
        body,
      });
      if (req.url!.startsWith("/global/event")) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        return onEvents(res);
      }
      if (req.url!.startsWith("/missing")) {
        res.writeHead(404, { "content-type": "application/json" });
        return res.end(JSON.stringify({ name: "NotFound" }));
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  http = new OpencodeHttp(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, "Basic secret");
});

afterAll(async () => {
  http.destroy();
  await new Promise((resolve) => server.close(resolve));
});

describe("OpencodeHttp", () => {
  it("names the directory in the header, and in ?directory= on a GET; sends the password and a JSON body", async () => {
    seen.length = 0;
    expect(await http.request("GET", "/session/status", "/work/a b")).toEqual({ status: 200, data: { ok: true }, error: undefined });
    await http.request("POST", "/session/ses_1/prompt_async", "/work/home", {
      query: { directory: "/work/tree" },
      body: { parts: [{ type: "text", text: "hé" }] },
    });
    await http.request("PATCH", "/session/ses_1", "/work/home", { body: { title: "t" } });
    expect(seen).toEqual([
      { method: "GET", url: "/session/status?directory=%2Fwork%2Fa+b", directory: "%2Fwork%2Fa%20b", authorization: "Basic secret", body: "" },
      {
        method: "POST",
        url: "/session/ses_1/prompt_async?directory=%2Fwork%2Ftree",
        directory: "%2Fwork%2Fhome",
        authorization: "Basic secret",
        body: '{"parts":[{"type":"text","text":"hé"}]}',
      },
      { method: "PATCH", url: "/session/ses_1", directory: "%2Fwork%2Fhome", authorization: "Basic secret", body: '{"title":"t"}' },
    ]);
  });

  it("returns a refusal as its status and error, not as data", async () => {
    expect(await http.request("GET", "/missing", null)).toEqual({ status: 404, data: undefined, error: { name: "NotFound" } });
  });

  it("reads events split across chunks, with CRLF lines, comments and data that is not JSON, until the server ends the stream", async () => {
    onEvents = (res) => {
      res.write('data: {"n":');
      setImmediate(() => {
        res.write('1}\n\n: a comment\n\nevent: x\r\ndata: {"n":2}\r\n\r\ndata: not json\n\n');
        setImmediate(() => res.end('data: {"n":\ndata: 3}\n\n'));
      });
    };
    const events: unknown[] = [];
    for await (const event of http.events("/global/event", "/work/home", new AbortController().signal)) events.push(event);
    expect(events).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(seen.at(-1)).toMatchObject({ url: "/global/event?directory=%2Fwork%2Fhome", directory: "%2Fwork%2Fhome" });
  });

  it("throws when the stream is aborted, and says a reset connection's code", async () => {
    onEvents = (res) => res.write('data: {"n":1}\n\n');
    const abort = new AbortController();
    const events: unknown[] = [];
    await expect(
      (async () => {
        for await (const event of http.events("/global/event", "/work/home", abort.signal)) {
          events.push(event);
          abort.abort();
        }
      })(),
    ).rejects.toThrow(/abort/i);
    expect(events).toEqual([{ n: 1 }]);
    expect(describeHttpError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))).toBe("socket hang up: ECONNRESET");
    expect(describeHttpError(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }))).toBe("read ECONNRESET");
  });
});
