/**
 * `batch-export records <export_id|file_id>`: the decoded records of an export (every part, in order) or of one
 * file, as NDJSON on stdout, streamed through `ExportsClient.records` in constant memory.
 *
 * @since 0.1.0
 */
import { ClientError } from "@batch-export/core"
import { ExportsClient } from "@batch-export/node"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Client from "../Client.js"

/**
 * Checks that `id` names an export (`export_…`) or a file (`file_…`) before anything else happens; the client
 * then checks the rest of its shape.
 *
 * @since 0.1.0
 * @category validation
 */
export const recordsSource = (id: string): Effect.Effect<string, ClientError.InvalidArgument> =>
  id.startsWith("export_") || id.startsWith("file_")
    ? Effect.succeed(id)
    : Effect.fail(
        new ClientError.InvalidArgument({
          argument: "id",
          detail: `expected an export id (export_…) or a file id (file_…), got ${JSON.stringify(id)}`
        })
      )

/**
 * Prints the records of `id` as NDJSON on stdout, at most `limit` of them: once the last one wanted has arrived,
 * the stream ends, which closes its connection (nothing more is downloaded).
 *
 * @since 0.1.0
 * @category programs
 */
export const printRecords = (
  id: string,
  limit: Option.Option<number>
): Effect.Effect<void, ClientError.InvalidArgument | ExportsClient.RecordsError, ExportsClient.ExportsClient> =>
  Effect.flatMap(ExportsClient.ExportsClient, (client) => {
    const records = id.startsWith("file_") ? client.fileRecords(id) : client.records(id)
    const wanted = Option.match(limit, { onNone: () => records, onSome: (n) => Stream.take(records, n) })
    return Stream.runForEach(wanted, (record) => Console.log(JSON.stringify(record)))
  })

const id = Args.text({ name: "export_id|file_id" }).pipe(
  Args.withDescription("An export (export_…: every part, in part order) or one of its files (file_…)")
)

const limit = Client.wholeNumber("limit", 1, Number.MAX_SAFE_INTEGER, "Stop after this many records").pipe(
  Options.optional
)

/**
 * `batch-export records <export_id|file_id> [--limit N] [--base-url URL] [--api-version V] [--idle-timeout SECONDS]`
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "records",
  { id, limit, baseUrl: Client.baseUrl, apiVersion: Client.apiVersion, idleTimeout: Client.idleTimeout },
  ({ id, limit, ...flags }) =>
    Effect.flatMap(recordsSource(id), (source) => printRecords(source, limit).pipe(Effect.provide(Client.layer(flags))))
).pipe(
  Command.withDescription(
    "Print the records of an export or of one file as NDJSON (one JSON object per line), decoded and streamed."
  )
)
