// What the agent sends the hub, made to fit what the hub takes. The hub refuses a frame nested
// deeper than MAX_FRAME_DEPTH (and cuts the link) and closes the socket on one larger than
// HARD_FRAME_BYTES (1009). A report is sent again after every reconnect until the hub acknowledges
// it, so one the hub refuses would cut the link again, forever, and nothing after it would reach
// the hub; a command's answer too large (a reply read back, megabytes long) cuts the link and
// every other answer in flight with it. So what is sent is cut to fit, never refused: what lies
// below the depth limit is replaced, and the longest strings are cut until the frame fits.
import { HARD_FRAME_BYTES } from "../../protocol/frames.js";
import { capDepth, MAX_FRAME_DEPTH, nestedDeeperThan } from "../../protocol/json-depth.js";

/** The most a value may take of a frame to the hub; the frame around it needs a few bytes more. */
export const MAX_SENT_BYTES = HARD_FRAME_BYTES - 4096;

/** Says where a string was cut, and how much of it the hub did not get. */
const cutMarker = (dropped: number) => `…[cut: ${dropped} more characters did not fit in a frame to the hub]`;

/**
 * `value` as JSON the hub takes when it is sent `wrapDepth` levels inside a frame (a report's body
 * is one level in). `cut` says whether anything had to go.
 */
export function fitForHub(value: unknown, wrapDepth: number, maxBytes = MAX_SENT_BYTES): { json: string; cut: boolean } {
  let json = JSON.stringify(value);
  let cut = false;
  // Cut from the JSON's own reading of the value (a Date becomes its string first, as sent).
  if (nestedDeeperThan(json, MAX_FRAME_DEPTH - wrapDepth)) {
    json = JSON.stringify(capDepth(JSON.parse(json), MAX_FRAME_DEPTH - wrapDepth));
    cut = true;
  }
  // A UTF-16 unit is at most 3 bytes of UTF-8, so a short string needs no counting.
  if (json.length > maxBytes / 3 && Buffer.byteLength(json) > maxBytes) {
    json = cutToFit(json, maxBytes);
    cut = true;
  }
  return { json, cut };
}

/** `json` with its longest strings cut, one at a time, until it is at most `maxBytes` of UTF-8. */
function cutToFit(json: string, maxBytes: number): string {
  const value = JSON.parse(json) as unknown;
  for (let size = Buffer.byteLength(json); size > maxBytes; size = Buffer.byteLength(json)) {
    const longest = longestString(value);
    if (!longest || longest.get().length <= cutMarker(0).length * 2) break; // nothing left worth cutting
    const text = longest.get();
    // A character is at least one byte of JSON, so cutting the excess in characters frees enough,
    // unless what was cut was lighter than the rest (escapes, multi-byte characters): then again.
    const keep = Math.max(0, text.length - (size - maxBytes) - cutMarker(text.length).length - 16);
    longest.set(text.slice(0, keep) + cutMarker(text.length - keep));
    json = JSON.stringify(value);
  }
  return json;
}

type Holder = Record<string | number, unknown>;

/** The longest string anywhere in a parsed JSON value (an object or array), as a place to read and write it. */
function longestString(value: unknown): { get(): string; set(text: string): void } | null {
  let best: { holder: Holder; key: string | number; length: number } | null = null;
  const visit = (holder: Holder, key: string | number): void => {
    const v = holder[key];
    if (typeof v === "string") {
      if (!best || v.length > best.length) best = { holder, key, length: v.length };
    } else if (v !== null && typeof v === "object") {
      for (const k of Object.keys(v)) visit(v as Holder, Array.isArray(v) ? Number(k) : k);
    }
  };
  visit({ value }, "value");
  const found = best as { holder: Holder; key: string | number } | null;
  return found && { get: () => found.holder[found.key] as string, set: (text) => (found.holder[found.key] = text) };
}
