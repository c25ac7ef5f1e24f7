/**
 * The retry schedule for Batch's retryable answers (429, 503).
 *
 * @since 0.1.0
 */
import { ApiError } from "@batch-export/core"
import { Duration, Option, Schedule } from "effect"
import type { RetryPolicy } from "./BatchConfig.js"

const retryAfterOf = (error: unknown): Option.Option<Duration.Duration> =>
  ApiError.isRetryable(error) ? Option.fromNullable(error.retryAfter) : Option.none()

/**
 * Retries only `TooManyRequests` and `ServiceUnavailable`, at most `maxRetries` times: exponential backoff
 * from `baseDelay` with jitter, capped at `maxDelay`; when Batch sends `Retry-After`, that wait is used
 * instead (capped at `retryAfterCap`). Any other input stops the schedule at once.
 *
 * @since 0.1.0
 * @category schedules
 */
export const make = <E>(policy: RetryPolicy): Schedule.Schedule<[E, Duration.Duration, number], E> =>
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
    Schedule.whileInput((error: E) => ApiError.isRetryable(error))
  )
