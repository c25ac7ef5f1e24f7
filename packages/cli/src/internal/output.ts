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

// What `JSON.stringify` leaves raw and a terminal acts on: DEL, C1 (U+0080–U+009F: 8-bit escapes such as
// CSI U+009B, and NEL U+0085), the line and paragraph separators, and the bidi controls that reorder what is
// shown (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069). C0 it escapes itself.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

const escape = (char: string): string => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`

/**
 * `value` as compact JSON text (one line) that is safe on a terminal: every character a terminal would act on is
 * written as a `\uXXXX` escape. Such characters can only stand inside JSON strings, so the text parses to the
 * same value: what Batch sent, exactly. Every JSON the commands print goes through it.
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const jsonText = (value: unknown): string => (JSON.stringify(value) ?? "null").replace(UNSAFE_IN_JSON, escape)

/**
 * Prints one JSON document on one line of stdout (escaped by `jsonText`, never sanitized): the one rule of
 * `--json`. A command printing one result prints one such line; a stream (`list --all`, `records`) prints one per
 * item (NDJSON).
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const printJson = (value: unknown): Effect.Effect<void> => Console.log(jsonText(value))

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
