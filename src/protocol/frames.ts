// The frames on the wire: JSON text frames over one WebSocket. See docs/protocol.md.
import type { ErrorPayload } from "./errors.js";
import type { PatchOp } from "./patch.js";

/** Frames larger than this get a frame_too_large error instead of being parsed. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** Beyond this the socket itself is closed (1009), since reading it would already cost memory. */
export const HARD_FRAME_BYTES = 8 * 1024 * 1024;
/** A connection must say hello within this time. */
export const HELLO_TIMEOUT_MS = 5000;
/**
 * Until its hello is accepted, a connection may send at most this many bytes: a stranger without
 * the token cannot make the daemon read, parse or buffer anything large. The first frame that is
 * not a good hello closes the socket.
 */
export const MAX_PRE_HELLO_BYTES = 8 * 1024;

/** Close codes we use besides the standard ones. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  tooLarge: 1009,
  unauthenticated: 4401,
  protocolMismatch: 4400,
  helloTimeout: 4408,
  /** Too many connections, or too many not yet signed in from one source. */
  overloaded: 1013,
  /** The client reads too slowly: its queue, or everyone's together, grew past the bound. */
  slowClient: 4429,
} as const;

export interface HelloFrame {
  type: "hello";
  protocol: number;
  client: { name: string; version: string };
  /** The token from daemon.json: proves the caller is the local OS user. */
  token?: string;
  /** A session bearer token from an earlier sign-in: says which user the caller is. */
  session?: string;
  /** A machine opening its link to a hub (network listener only; see protocol/link.ts and docs/protocol.md). */
  link?: unknown;
}

export interface CallFrame {
  type: "call";
  id: number;
  method: string;
  args: unknown;
}

export interface SubscribeFrame {
  type: "subscribe";
  id: number;
  method: string;
  args: unknown;
}

export interface UnsubscribeFrame {
  type: "unsubscribe";
  id: number;
}

export type ClientFrame = HelloFrame | CallFrame | SubscribeFrame | UnsubscribeFrame;

/** Why a presented session did not sign the connection in. */
export type SessionProblem = "expired" | "revoked" | "unknown";

export interface CallerInfo {
  /** local: proved to be this machine's OS user (the daemon token); network: came through a hub's network listener. */
  kind: "local" | "network";
  /** null when no valid session was presented: the client should sign in. */
  user: { id: string; name: string; level: "user" | "system_admin" } | null;
  session: { id: string; expiresAt: number } | null;
  /** Set when a session was presented but refused; the hello itself still succeeds. */
  sessionProblem?: SessionProblem;
}

export interface WelcomeFrame {
  type: "welcome";
  protocol: number;
  server: { version: string; pid: number };
  caller: CallerInfo;
}

export interface ResultFrame {
  type: "result";
  id: number;
  result: unknown;
}

/** For a call: the call failed. For a subscription: its latest evaluation failed; it stays open. */
export interface ErrorFrame {
  type: "error";
  id: number | null;
  error: ErrorPayload;
}

/** A subscription's whole current value. */
export interface ValueFrame {
  type: "value";
  id: number;
  value: unknown;
}

/** A subscription's change, relative to the value last sent on it. */
export interface PatchFrame {
  type: "patch";
  id: number;
  ops: PatchOp[];
}

export type ServerFrame = WelcomeFrame | ResultFrame | ErrorFrame | ValueFrame | PatchFrame;
