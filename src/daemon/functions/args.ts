// Argument schemas shared by several modules, with messages a user can act on.
import { z } from "zod";
import { ID_PREFIXES, looksLikeId, type Id, type IdKind } from "../../protocol/ids.js";

/** A key that names a checklist, discussion, attendance sheet…: 1–128 visible characters. */
export const keyArg = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(128, "must be at most 128 characters")
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\x00-\x1f\x7f]+$/, "must not contain control characters");

/** Free text typed by a person: trimmed, 1–4000 characters. */
export const textArg = z.string().trim().min(1, "must not be empty").max(4000, "must be at most 4000 characters");

/** A business id of one kind, e.g. idArg("checklistItem") accepts only cki_… ids. */
export function idArg<K extends IdKind>(kind: K) {
  return z
    .string()
    .refine((value) => looksLikeId(kind, value), `must be a ${ID_PREFIXES[kind]}_… id`)
    .transform((value) => value as Id<(typeof ID_PREFIXES)[K]>);
}

/** A user as an admin names one: an id (usr_…), a name or an email. */
export const userRefArg = z.string().trim().min(1, "must name a user (an id, a name or an email)").max(320);

const DURATION_UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** How far back to look, as a person writes it: 30m, 12h, 7d, 4w (durationMs reads it). */
export const durationArg = z
  .string()
  .trim()
  .regex(/^\d{1,6}[mhdw]$/, "must be a number and a unit: 30m, 12h, 7d or 4w");

export function durationMs(value: string): number {
  return Number(value.slice(0, -1)) * DURATION_UNITS[value.slice(-1)]!;
}
