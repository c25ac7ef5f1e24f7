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

/** A secret shorter than this is not searched for: it would mask ordinary words. */
const MIN_SECRET_LENGTH = 4

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/**
 * Replaces every occurrence of each secret (the REST key) in `text` by `<redacted>`: inside longer text, as is
 * or percent-encoded, in any letter case (a server may echo a key's hex digits, or its `%2F`, in either). A
 * secret shorter than 4 characters is not searched for: it would mask ordinary words.
 *
 * @since 0.1.0
 * @category combinators
 */
export const mask = (text: string, secrets: ReadonlyArray<string>): string => {
  const forms = new Set(
    secrets.filter((secret) => secret.length >= MIN_SECRET_LENGTH).flatMap((s) => [s, encodeURIComponent(s)])
  )
  if (forms.size === 0) return text
  // the longer form first: where both match, the whole of it goes
  const alternatives = [...forms].sort((a, b) => b.length - a.length).map(escapeRegExp)
  return text.replace(new RegExp(alternatives.join("|"), "gi"), "<redacted>")
}

/**
 * Text we did not write (a transport library's error message, a server's `error_message`) made safe to keep
 * in an error: every URL is replaced by its origin (a signed link's path and query go), every bearer token and
 * every occurrence of one of `secrets` (see `mask`) by `<redacted>`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const scrub = (text: string, secrets: ReadonlyArray<string> = []): string =>
  // URLs first: a secret masked inside one would end the URL's match early and leave the rest of its query
  mask(
    text
      .replace(URL_PATTERN, (match) => `${safeOrigin(match)}/<redacted>`)
      .replace(BEARER_PATTERN, "Bearer <redacted>"),
    secrets
  )

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
