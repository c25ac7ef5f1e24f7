import * as Effect from "effect/Effect"
import { dual } from "effect/Function"

/**
 * `effect`, failing with `message` (naming the guard) when it takes more than `seconds` real seconds: a broken
 * guard fails fast rather than by the test's timeout. A real timer, whatever clock the test runs on (a hang
 * schedules nothing on the TestClock); and `effect` is disconnected, since a broken guard may leave it
 * uninterruptible and the race must not wait for it. Data-first, or in `pipe`: `.pipe(within("the guard"))`.
 */
export const within: {
  (message: string, seconds?: number): <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | Error, R>
  <A, E, R>(effect: Effect.Effect<A, E, R>, message: string, seconds?: number): Effect.Effect<A, E | Error, R>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(effect: Effect.Effect<A, E, R>, message: string, seconds = 5): Effect.Effect<A, E | Error, R> =>
    Effect.raceFirst(
      Effect.disconnect(effect),
      Effect.async<never, Error>((resume) => {
        const timer = setTimeout(() => resume(Effect.fail(new Error(`timed out: ${message}`))), seconds * 1000)
        return Effect.sync(() => clearTimeout(timer))
      })
    )
)
