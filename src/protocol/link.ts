// The link between a hub and a machine's agent, as it travels over the network: the hello that
// opens it, the frames both ways, their runtime validation, invite tokens and certificate
// fingerprints. Only daemons import this file (it loads zod); clients never speak the link.
import { z } from "zod";
import { normalizeFingerprint } from "../platform/tls-pin.js";

/** Bumped whenever link frames change incompatibly; both ends must speak the same one. */
export const LINK_VERSION = 1;

/** Close codes of the link, besides those of frames.ts. */
export const LINK_CLOSE = {
  /** The machine was revoked or removed: do not come back. */
  revoked: 4403,
  /** A newer link of the same machine took over. */
  replaced: 4409,
  /** The machine sent faster than the hub's limit (LINK_RATE.hub); it may come back after its backoff. */
  rateLimited: 4429,
} as const;

/** A sending rate: frames and bytes per second, and how much may come at once above it. */
export interface LinkRate {
  framesPerSecond: number;
  framesBurst: number;
  bytesPerSecond: number;
  bytesBurst: number;
}

const MiB = 1024 * 1024;

/**
 * How fast one machine may send to its hub. The hub closes a link past `hub`; the agent paces its
 * outbox to `agent`, below it. A real worker streaming at full speed (the fake model's "stream fast",
 * no delay between chunks) sends one frame per chunk: 3000 chunks were 3021 frames, 891 KiB, the
 * busiest second 2624 frames (test/e2e/remote-worker.test.ts measures it); a model streaming 100
 * tokens a second on each of 50 workers of one machine would be 5000. Past `agent` the outbox only
 * waits; it is never cut. A burst of 8 MiB (the largest frame) always fits.
 */
export const LINK_RATE: { hub: LinkRate; agent: LinkRate } = {
  hub: { framesPerSecond: 10_000, framesBurst: 50_000, bytesPerSecond: 32 * MiB, bytesBurst: 128 * MiB },
  agent: { framesPerSecond: 8000, framesBurst: 25_000, bytesPerSecond: 24 * MiB, bytesBurst: 64 * MiB },
};

const facts = z.strictObject({
  hostname: z.string().max(255),
  platform: z.string().max(64),
  release: z.string().max(255),
  arch: z.string().max(64),
  cpus: z.number().int().min(0).max(100_000),
  totalMemoryBytes: z.number().min(0),
  agentVersion: z.string().max(100),
});

export type LinkMachineFacts = z.infer<typeof facts>;

/** What a machine puts in its hello: a credential it was given, or an invite secret to join with. */
export const linkHelloSchema = z.union([
  z.strictObject({
    version: z.number().int(),
    machine: z.strictObject({ id: z.string().min(1).max(64), credential: z.string().min(1).max(200) }),
  }),
  z.strictObject({
    version: z.number().int(),
    join: z.strictObject({ secret: z.string().min(1).max(200), name: z.string().max(64).optional(), facts }),
  }),
]);

export type LinkHello = z.infer<typeof linkHelloSchema>;

const workerId = z.string().min(1).max(64);
const runtime = z.strictObject({
  runState: z.enum(["starting", "idle", "active", "offline", "error"]),
  reason: z.string().max(20_000).nullable(),
  pid: z.number().int().nullable(),
  startedAt: z.number().nullable(),
  restartCount: z.number().int().min(0),
  opencodeVersion: z.string().max(100).nullable(),
});
const model = z.strictObject({
  providerId: z.string(),
  providerName: z.string(),
  modelId: z.string(),
  name: z.string(),
  contextLimit: z.number().nullable(),
  outputLimit: z.number().nullable(),
  toolCall: z.boolean(),
  isDefault: z.boolean(),
});
/** OpenCode's events, as the agent's adapter normalizes them: checked for their envelope, passed on as they are. */
const event = z.looseObject({ type: z.string().min(1).max(100), sessionId: z.string().max(200).nullable() });

export const agentReportSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("machine.heartbeat"), facts, at: z.number() }),
  z.strictObject({ type: z.literal("worker.runtime"), workerId, runtime, at: z.number() }),
  z.strictObject({ type: z.literal("worker.models"), workerId, models: z.array(model).max(10_000), at: z.number() }),
  z.strictObject({ type: z.literal("worker.event"), workerId, event, at: z.number() }),
]);

const errorPayload = z.looseObject({ code: z.string(), message: z.string() });

/** Agent → hub. */
export const agentFrameSchema = z.discriminatedUnion("t", [
  z.strictObject({ t: z.literal("report"), seq: z.number().int().positive(), report: agentReportSchema }),
  z.strictObject({ t: z.literal("result"), id: z.number().int().positive(), result: z.unknown().optional(), error: errorPayload.optional() }),
  z.strictObject({ t: z.literal("pong"), at: z.number() }),
]);

export type AgentFrame = z.infer<typeof agentFrameSchema>;

export type MachineApproval = "pending" | "approved";

/** Hub → agent. */
export const hubFrameSchema = z.discriminatedUnion("t", [
  /** The hello was accepted; `credential` only once, after joining with an invite. */
  z.strictObject({
    t: z.literal("linked"),
    machineId: z.string(),
    name: z.string(),
    approval: z.enum(["pending", "approved"]),
    hubVersion: z.string(),
    credential: z.string().optional(),
  }),
  z.strictObject({ t: z.literal("approved") }),
  /** Every report up to and including `seq` is committed on the hub. */
  z.strictObject({ t: z.literal("ack"), seq: z.number().int().min(0) }),
  z.strictObject({ t: z.literal("command"), id: z.number().int().positive(), name: z.string(), args: z.unknown() }),
  z.strictObject({ t: z.literal("ping"), at: z.number() }),
  z.strictObject({ t: z.literal("revoked"), reason: z.string() }),
]);

export type HubFrame = z.infer<typeof hubFrameSchema>;

/** What `machine invite` prints: `ocf1.` and base64url JSON of the hub's URL, fingerprint and secret. */
export interface InviteToken {
  url: string;
  fingerprint: string;
  secret: string;
}

const INVITE_PREFIX = "ocf1.";

export function formatInviteToken(token: InviteToken): string {
  return INVITE_PREFIX + Buffer.from(JSON.stringify(token), "utf8").toString("base64url");
}

/** Reads an invite token, or throws an Error that says what is wrong with it. */
export function parseInviteToken(text: string): InviteToken {
  const trimmed = text.trim();
  if (!trimmed.startsWith(INVITE_PREFIX)) throw new Error("that is not an ocfleet invite (it should start with ocf1.)");
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(trimmed.slice(INVITE_PREFIX.length), "base64url").toString("utf8"));
  } catch {
    throw new Error("the invite is damaged; copy the whole line printed by `ocfleet machine invite`");
  }
  const parsed = z.strictObject({ url: z.string().url(), fingerprint: z.string().min(1), secret: z.string().min(1) }).safeParse(value);
  if (!parsed.success) throw new Error("the invite is damaged; copy the whole line printed by `ocfleet machine invite`");
  if (!/^wss:\/\//.test(parsed.data.url)) throw new Error(`the invite's hub address ${parsed.data.url} is not wss://`);
  return { ...parsed.data, fingerprint: normalizeFingerprint(parsed.data.fingerprint) };
}
