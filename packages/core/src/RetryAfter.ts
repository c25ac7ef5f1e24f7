/**
 * `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an HTTP-date.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
const DELTA_SECONDS = /^\d+$/

/**
 * Parses a `Retry-After` value relative to `now` (epoch millis). A date in the past means "now" (zero);
 * anything that is neither form (negative, fractional, garbage) is `None`.
 *
 * @since 0.1.0
 * @category decoding
 */
export const parse = (value: string, now: number): Option.Option<Duration.Duration> => {
  const trimmed = value.trim()
  if (DELTA_SECONDS.test(trimmed)) {
    const seconds = Number(trimmed)
    return Number.isSafeInteger(seconds) ? Option.some(Duration.seconds(seconds)) : Option.none()
  }
  // An HTTP-date always names a weekday or month; refusing bare numbers avoids Date.parse's leniency.
  if (!/[A-Za-z]{3}/.test(trimmed)) return Option.none()
  // asctime() dates carry no zone but are GMT by definition (RFC 9110 §5.6.7).
  const at = Date.parse(/\b(GMT|UTC)\b|[+-]\d{4}$/.test(trimmed) ? trimmed : `${trimmed} GMT`)
  return Number.isNaN(at) ? Option.none() : Option.some(Duration.millis(Math.max(0, at - now)))
}
