// Google sign-in through the browser (RFC 8252 loopback redirect): listen on 127.0.0.1:0, ask the
// daemon for an authorization URL bound to that exact redirect, open the browser (and always print
// the URL), check the state that comes back, and hand the code to the daemon, which does the rest.
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { FleetConnection } from "../client/connection.js";
import { api, type SignInResult } from "../protocol/api/index.js";
import { FleetError } from "../protocol/errors.js";

export interface BrowserSignInOptions {
  /** Prints a line for the person at the terminal. */
  say(line: string): void;
  /** Defaults to 5 minutes, or OCFLEET_LOGIN_TIMEOUT_MS. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const CALLBACK_PATH = "/callback";

interface Callback {
  code: string;
  respond(status: number, html: string): void;
}

export async function signInWithBrowser(connection: Pick<FleetConnection, "call">, options: BrowserSignInOptions): Promise<SignInResult> {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? (Number(env.OCFLEET_LOGIN_TIMEOUT_MS) > 0 ? Number(env.OCFLEET_LOGIN_TIMEOUT_MS) : DEFAULT_TIMEOUT_MS);
  const server = createServer();
  // Loopback only, never all interfaces: the code must not be reachable from the network.
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  try {
    const port = (server.address() as { port: number }).port;
    const start = await connection.call(api.auth.googleStart, { redirectUri: `http://127.0.0.1:${port}${CALLBACK_PATH}` });
    options.say(`Open this URL in a browser to sign in with Google:\n\n  ${start.authorizationUrl}\n`);
    if (env.SSH_CONNECTION || env.SSH_TTY) {
      options.say(
        `This looks like an SSH session: forward the port first (ssh -L ${port}:127.0.0.1:${port} <this host>) ` +
          "and open the URL on your own computer, or use: ocfleet login --google --device",
      );
    }
    const callback = waitForCallback(server, port, start.state, timeoutMs);
    await openBrowser(start.authorizationUrl, env, options.say);
    options.say("Waiting for the browser…");
    const { code, respond } = await callback;
    try {
      const result = await connection.call(api.auth.googleFinish, { requestId: start.requestId, state: start.state, code });
      respond(200, page("Signed in", `You are signed in to ocfleet as ${result.user.name}. You can close this tab.`));
      return result;
    } catch (err) {
      respond(400, page("Sign-in failed", err instanceof Error ? err.message : String(err)));
      throw err;
    }
  } finally {
    server.close();
    server.closeAllConnections();
  }
}

/** OCFLEET_BROWSER=none only prints the URL (tests, or a machine where opening a browser is pointless). */
async function openBrowser(url: string, env: NodeJS.ProcessEnv, say: (line: string) => void): Promise<void> {
  if (env.OCFLEET_BROWSER === "none") return;
  try {
    const { default: open } = await import("open");
    const child = await open(url);
    child.on("error", () => say("Could not open a browser; open the URL above yourself."));
  } catch {
    say("Could not open a browser; open the URL above yourself.");
  }
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Resolves with the code from the first request to the callback path whose state matches. A
 * wrong state, an error from the provider or the timeout fails the sign-in closed.
 */
function waitForCallback(server: Server, port: number, state: string, timeoutMs: number): Promise<Callback> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      outcome();
      return true;
    };
    const timer = setTimeout(
      () =>
        settle(() =>
          reject(
            new FleetError(
              "timeout",
              `no answer from the browser within ${Math.round(timeoutMs / 1000)} s; nothing was signed in. Run ocfleet login --google again`,
            ),
          ),
        ),
      timeoutMs,
    );
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? "/", `http://127.0.0.1:${port}`);
      const reply = (status: number, html: string) => {
        res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", connection: "close" });
        res.end(html);
      };
      // Anything else a browser asks for (a favicon…), or a page on another host name (DNS rebinding), is not ours.
      if (url.pathname !== CALLBACK_PATH || req.headers.host !== `127.0.0.1:${port}`) return reply(404, page("Not found", "Nothing here."));
      if (settled) return reply(409, page("Already handled", "This sign-in has already been handled; you can close this tab."));
      const params = url.searchParams;
      const error = params.get("error");
      if (error) {
        reply(400, page("Sign-in cancelled", `Google said: ${error}. Nothing was signed in.`));
        return settle(() => reject(new FleetError("permission_denied", `Google sign-in did not complete (${error}); nothing was signed in`)));
      }
      if (!sameSecret(params.get("state") ?? "", state)) {
        reply(400, page("Sign-in refused", "This answer does not belong to the sign-in ocfleet started. Nothing was signed in."));
        return settle(() =>
          reject(
            new FleetError(
              "unauthenticated",
              "the browser came back with a state that does not belong to this sign-in (a forged or stale redirect); nothing was signed in. Run ocfleet login --google again",
            ),
          ),
        );
      }
      const code = params.get("code");
      if (!code) {
        reply(400, page("Sign-in failed", "The answer carries no code. Nothing was signed in."));
        return settle(() => reject(new FleetError("unauthenticated", "the browser came back without a code; nothing was signed in")));
      }
      settle(() => resolve({ code, respond: reply }));
    });
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, message: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>ocfleet: ${escapeHtml(title)}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>\n`;
}
