import * as Effect from "effect/Effect"

/**
 * `effect`, failing with `message` (naming the guard) when it takes more than `seconds` real seconds: a broken
 * guard fails fast rather than by the test's timeout. A real timer, whatever clock the test runs on; and
 * `effect` is disconnected, since a broken guard may leave it uninterruptible and the race must not wait for it.
 */
export const within = <A, E, R>(effect: Effect.Effect<A, E, R>, message: string, seconds = 5) =>
  Effect.raceFirst(
    Effect.disconnect(effect),
    Effect.async<never, Error>((resume) => {
      const timer = setTimeout(() => resume(Effect.fail(new Error(`timed out: ${message}`))), seconds * 1000)
      return Effect.sync(() => clearTimeout(timer))
    })
  )
