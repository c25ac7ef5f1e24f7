/**
 * What `records` accepts as its argument (see `RecordsCommand.recordsOf`), checked by the command module before
 * its handler is loaded.
 *
 * @internal
 * @since 0.1.0
 */
import { ClientError } from "@batch-export/core"
import * as Effect from "effect/Effect"

/**
 * Whose records an id names: an export's (`export_…`) or one file's (`file_…`).
 *
 * @internal
 * @since 0.1.0
 * @category models
 */
export type Source = "export" | "file"

/**
 * The kind of id `records` was given; anything else is refused before any request. The client checks the rest
 * of the id's shape.
 *
 * @internal
 * @since 0.1.0
 * @category decoding
 */
export const sourceOf = (id: string): Effect.Effect<Source, ClientError.InvalidArgument> =>
  id.startsWith("export_")
    ? Effect.succeed("export")
    : id.startsWith("file_")
      ? Effect.succeed("file")
      : Effect.fail(
          new ClientError.InvalidArgument({
            argument: "id",
            detail: `expected an export id (export_…) or a file id (file_…), got ${JSON.stringify(id)}`
          })
        )
