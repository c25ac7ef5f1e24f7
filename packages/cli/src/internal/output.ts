import { Redaction } from "@batch-export/core"
import * as Console from "effect/Console"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"

/**
 * A date as the commands print it (ISO 8601, UTC), or `-` when Batch gave none.
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const formatDate = (date: DateTime.Utc | undefined): string =>
  date === undefined ? "-" : DateTime.formatIso(date)

/**
 * Server text as shown to a human: no control character can reach the terminal (see `Redaction.sanitize`).
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const shown = (text: string): string => Redaction.sanitize(text)

/**
 * Prints a value as JSON on stdout (exact: never sanitized), pretty-printed.
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const printJson = (value: unknown): Effect.Effect<void> => Console.log(JSON.stringify(value, null, 2))

/**
 * Writes bytes to stdout as they are (`--out -`), waiting for the stream to take them (backpressure).
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const writeStdout = (bytes: Uint8Array): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    // a closed stdout is handled once, by the executable (see bin.ts): the write just does not complete
    process.stdout.write(bytes, (error) => {
      if (error === null || error === undefined) resume(Effect.void)
    })
  })
