import * as Options from "@effect/cli/Options"
import * as DateTime from "effect/DateTime"

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
 * `--json`: print Batch's JSON (its field names) instead of the human rendering.
 *
 * @internal
 * @since 0.1.0
 * @category options
 */
export const json: Options.Options<boolean> = Options.boolean("json").pipe(
  Options.withDescription("Print the JSON Batch returned (its field names) instead of a summary")
)
