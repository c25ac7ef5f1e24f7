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
 * @category redaction
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
 * @category redaction
 */
export const scrub = (text: string): string =>
  text.replace(URL_PATTERN, (match) => `${safeOrigin(match)}/<redacted>`).replace(BEARER_PATTERN, "Bearer <redacted>")
