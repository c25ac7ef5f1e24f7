/**
 * Helpers that keep signed URLs and credentials out of messages, logs and spans.
 *
 * @since 0.1.0
 */

/**
 * The part of a URL that is safe to show: its origin only. Signed storage links may carry their
 * signature in the query or in the path, so neither is shown.
 *
 * @since 0.1.0
 * @category combinators
 */
export const safeOrigin = (url: URL | string): string => {
  try {
    const parsed = typeof url === "string" ? new URL(url) : url
    return parsed.origin === "null" ? "<opaque url>" : parsed.origin
  } catch {
    return "<invalid url>"
  }
}

const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi
const BEARER_PATTERN = /\bBearer\s+[^\s"',;]+/gi

/**
 * Replaces every URL in free text (a transport library's error message, say) by its origin, and every
 * bearer token by `<redacted>`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const scrub = (text: string): string =>
  text.replace(URL_PATTERN, (match) => `${safeOrigin(match)}/<redacted>`).replace(BEARER_PATTERN, "Bearer <redacted>")

// C0 (U+0000–U+001F), DEL, C1 (U+0080–U+009F), and the bidi controls that reorder what a terminal shows
// (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069).
const LINE_BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/g
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/**
 * Server text made safe to show to a human on a terminal: line breaks and tabs become one space (so a value
 * stays on its line), every other control character is removed — C0 and DEL (ANSI escapes lose their
 * ESC and cannot drive the terminal), C1 (U+0080–U+009F, 8-bit escapes) and the bidi controls that could
 * make text read differently from what it is. Everything else is kept as is. Machine output (JSON) must
 * not go through it: it is exact.
 *
 * @since 0.1.0
 * @category combinators
 */
export const sanitize = (text: string): string => text.replace(LINE_BREAKS, " ").replace(CONTROLS, "")
