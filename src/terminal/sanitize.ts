// The print boundary: text that did not come from our own code (model replies, tool output, other
// users' text, names derived from paths) passes through here before a terminal sees it, so it can
// never move the cursor, retitle the window, write the clipboard (OSC 52) or rewrite earlier lines.
// Control characters are shown visibly instead (ESC as ^[), never emitted. --json output keeps
// the exact text: JSON escapes control characters itself.

/** C0 controls, DEL, C1 controls, and the Unicode bidi overrides that reorder what is shown. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = /\r\n|[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_INLINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** How a control character is shown: caret notation for C0 and DEL, <XX> for C1, <U+XXXX> for bidi. */
function visible(char: string): string {
  const code = char.charCodeAt(0);
  if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
  if (code === 0x7f) return "^?";
  if (code <= 0x9f) return `<${code.toString(16)}>`;
  return `<U+${code.toString(16).toUpperCase()}>`;
}

/**
 * Text safe to print: newlines and tabs stay (a CRLF becomes a newline), every other control
 * character and escape sequence is shown visibly. Returns the same string when nothing needs it.
 */
export function sanitize(text: string): string {
  if (!UNSAFE.test(text)) return text;
  return text.replace(UNSAFE_ALL, (match) => (match === "\r\n" ? "\n" : visible(match)));
}

/**
 * For one-line places (a name, a title, a table cell): as `sanitize`, and a newline or tab is
 * shown as ⏎ or a space, so a value cannot break out of its row.
 */
export function sanitizeInline(text: string): string {
  if (!UNSAFE_INLINE.test(text)) return text;
  return text.replace(/\r?\n|[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (match) =>
    match === "\n" || match === "\r\n" ? "⏎" : match === "\t" ? " " : visible(match),
  );
}
