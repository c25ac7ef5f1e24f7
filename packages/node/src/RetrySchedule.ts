/**
 * The retry schedule for Batch's retryable answers (429, 503).
 *
 * @since 0.1.0
 */
import { ApiError } from "@batch-export/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type { RetryPolicy } from "./BatchConfig.js"

const retryAfterOf = (error: unknown): Option.Option<Duration.Duration> =>
  ApiError.isRetryable(error) ? Option.fromNullable(error.retryAfter) : Option.none()

/**
 * Retries what `retryable` accepts (by default only `TooManyRequests` and `ServiceUnavailable`), at most
 * `maxRetries` times: exponential backoff from `baseDelay` with jitter, capped at `maxDelay`; when Batch
 * sends `Retry-After`, that wait is used instead (capped at `retryAfterCap`, and logged when it is long).
 * Any other input stops the schedule at once.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <E>(
  policy: RetryPolicy,
  retryable: (error: E) => boolean = ApiError.isRetryable
): Schedule.Schedule<[E, Duration.Duration, number], E> =>
  Schedule.identity<E>().pipe(
    Schedule.intersect(
      Schedule.exponential(policy.baseDelay).pipe(
        Schedule.jittered,
        Schedule.modifyDelay((_, delay) => Duration.min(delay, policy.maxDelay))
      )
    ),
    Schedule.modifyDelay(([error], delay) =>
      Option.match(retryAfterOf(error), {
        onNone: () => delay,
        onSome: (retryAfter) => Duration.min(retryAfter, policy.retryAfterCap)
      })
    ),
    Schedule.intersect(Schedule.recurs(policy.maxRetries)),
    Schedule.map(([[error, delay], n]) => [error, delay, n] as [E, Duration.Duration, number]),
    Schedule.whileInput(retryable),
    // a long wait must not be silent: say how long, and why
    Schedule.tapOutput(([error, delay]) => {
      const retryAfter = retryAfterOf(error)
      const wait = Option.match(retryAfter, {
        onNone: () => Duration.min(delay, policy.maxDelay),
        onSome: (requested) => Duration.min(requested, policy.retryAfterCap)
      })
      return Duration.greaterThanOrEqualTo(wait, LONG_WAIT)
        ? Effect.logInfo(
            Option.match(retryAfter, {
              onNone: () => `retrying in about ${Duration.format(wait)}`,
              onSome: (requested) =>
                `Batch asked to retry after ${Duration.format(requested)}: waiting ${Duration.format(wait)}` +
                (Duration.greaterThan(requested, wait) ? ` (the retryAfterCap)` : "")
            })
          )
        : Effect.void
    })
  )

/** Waits at least this long are logged at info level (a `Retry-After` can ask for minutes). */
const LONG_WAIT = Duration.seconds(10)
