/**
 * Helpers for tests that mix real sockets with the `TestClock`: the emulator answers in real time, while
 * retries and polls wait on the test clock. Adjusting the clock before the client has registered its
 * sleep would skip nothing, so tests first wait (in real time, for I/O only) until the sleep exists.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"
/**
 * Polls `condition` in real time (every 5 ms, up to 10 s) until it holds; dies with `what` otherwise.
 * For waiting on I/O, never for timing.
 *
 * @since 0.1.0
 * @category testing
 */
export const eventually = <E, R>(
  condition: Effect.Effect<boolean, E, R>,
  what = "a condition"
): Effect.Effect<void, E, R> =>
  Effect.gen(function* () {
    for (let i = 0; i < 2000; i++) {
      if (yield* condition) return
      yield* TestServices.provideLive(Effect.sleep("5 millis"))
    }
    return yield* Effect.dieMessage(`timed out waiting for ${what}`)
  })

/**
 * Waits until some fiber sleeps on the `TestClock` until exactly `after` from now (a retry after
 * `Retry-After`, a poll interval…), so that `TestClock.adjust(after)` then wakes it.
 *
 * @since 0.1.0
 * @category testing
 */
export const awaitSleep = (after: Duration.DurationInput): Effect.Effect<void> =>
  Effect.gen(function* () {
    const at = (yield* TestClock.currentTimeMillis) + Duration.toMillis(after)
    yield* eventually(
      Effect.map(TestClock.sleeps(), (sleeps) => Chunk.some(sleeps, (t) => t === at)),
      `a sleep of ${Duration.format(after)}`
    )
  })

/**
 * `awaitSleep(after)` then `TestClock.adjust(after)`: lets exactly one such wait elapse.
 *
 * @since 0.1.0
 * @category testing
 */
export const elapse = (after: Duration.DurationInput): Effect.Effect<void> =>
  Effect.zipRight(awaitSleep(after), TestClock.adjust(after))
