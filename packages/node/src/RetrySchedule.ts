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

/** An error as a log line may quote it: its message (the client's errors are scrubbed of secrets), or its tag. */
const describe = (error: unknown): string =>
  typeof error === "object" && error !== null && "message" in error && typeof error.message === "string"
    ? error.message
    : typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string"
      ? error._tag
      : "a retryable failure"

/**
 * The line logged before each retry: what failed, what Batch asked for, and the wait that really follows (the
 * schedule's final delay, jitter and caps included), e.g. `GET /exports/list failed: Transport (connect
 * ECONNREFUSED 127.0.0.1:1); retry 2 of 5 in 2.1s`. The wait is rounded (to 0.1 s, then to the second).
 */
const retryLine = (policy: RetryPolicy, error: unknown, wait: Duration.Duration, retry: number): string => {
  const asked = Option.match(retryAfterOf(error), {
    onNone: () => "",
    onSome: (requested) =>
      `; Batch asked to retry after ${Duration.format(requested)}` +
      (Duration.greaterThan(requested, policy.retryAfterCap) ? " (capped at retryAfterCap)" : "")
  })
  return `${describe(error)}${asked}; retry ${retry} of ${policy.maxRetries} in ${roughly(wait)}`
}

/** A wait as a person reads it: `1.3s` under 10 seconds, `42s` under a minute, then `2m`, `1m 30s`. */
const roughly = (wait: Duration.Duration): string => {
  const millis = Duration.toMillis(wait)
  return millis < 60_000
    ? `${(millis / 1000).toFixed(millis < 10_000 ? 1 : 0)}s`
    : Duration.format(Duration.seconds(Math.round(millis / 1000)))
}

/**
 * Retries what `retryable` accepts (by default only `TooManyRequests` and `ServiceUnavailable`), at most
 * `maxRetries` times: exponential backoff from `baseDelay` with jitter, capped at `maxDelay`; when Batch
 * sends `Retry-After`, that wait is used instead (capped at `retryAfterCap`). Any other input stops the
 * schedule at once.
 *
 * Each retry that waits is logged once, at info level, before its wait: what failed and how long the wait really
 * is. Nothing is logged when no wait follows (the budget is spent, the failure is not retryable, or Batch's
 * `Retry-After: 0` asks for a retry at once): the failure itself is then the caller's.
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
    // last, so that it sees the delay that is really waited, and only when a retry follows (a step that ends
    // the schedule has no delay to modify); a retry at once (`Retry-After: 0`) has no wait to announce
    Schedule.modifyDelayEffect(([error, , n], wait) =>
      Duration.isZero(wait)
        ? Effect.succeed(wait)
        : Effect.as(Effect.logInfo(retryLine(policy, error, wait, n + 1)), wait)
    )
  )
