// The turn inactivity limit: a turn that hears nothing from OpenCode for too long, while nothing
// legitimately keeps it quiet (a tool running, a question or permission waiting for the user), is
// stalled (a provider that stopped sending mid-stream and never closed the connection). OpenCode
// waits on such a stream for as long as its provider timeout allows; we stop it sooner, with a reason.
import { internalQuery } from "../model/context.js";
import type { Turn } from "./turn.js";

/** How long a turn may hear nothing before it is stopped, unless OCFLEET_TURN_STALL_MS says otherwise. */
export const DEFAULT_STALL_MS = 10 * 60_000;

const hasPendingRequest = internalQuery((ctx, args: { chatId: string }) =>
  Boolean(ctx.db.prepare("SELECT 1 FROM chat_requests WHERE chat_id = ? AND status = 'pending' LIMIT 1").get(args.chatId)),
);

/** Whether something other than the model keeps the turn quiet: a tool at work. */
function toolAtWork(turn: Turn): boolean {
  for (const part of turn.parts.values()) if (part.kind === "tool" && (part.status === "running" || part.status === "pending")) return true;
  return false;
}

/** The turns silent for longer than `limitMs` with nothing to wait for, as of `now`. */
export function stalledTurns(
  turns: Iterable<Turn>,
  now: number,
  limitMs: number,
  runQuery: (def: typeof hasPendingRequest, args: { chatId: string }) => boolean,
): Turn[] {
  const stalled: Turn[] = [];
  for (const turn of turns) {
    // Not counted before the prompt reached OpenCode: a worker still starting is waited for elsewhere.
    if (turn.finished || turn.settling || turn.lastHeardAt === null || now - turn.lastHeardAt < limitMs) continue;
    if (toolAtWork(turn) || runQuery(hasPendingRequest, { chatId: turn.chatId })) continue;
    stalled.push(turn);
  }
  return stalled;
}

/** What the user reads on a reply stopped for silence. */
export function stallMessage(limitMs: number): string {
  return `the model sent nothing for ${Math.round(limitMs / 1000)} s, so the reply was stopped; send again to retry`;
}
