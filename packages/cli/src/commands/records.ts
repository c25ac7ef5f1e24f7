/**
 * `batch-export records <export_id|file_id>`: the decoded records of an export (every part, in order) or of one
 * file, as NDJSON on stdout, streamed in constant memory.
 *
 * @since 0.1.0
 */
// ExportError only lets declaration emit name the error types inside the inferred command type.
import type { ClientError, ExportError, Records } from "@batch-export/core"
import type { ExportsClient } from "@batch-export/node"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import * as Flags from "../Flags.js"
import { lazily } from "../internal/lazy.js"
import { sourceOf } from "../internal/recordsId.js"

const load = () => import("../internal/handlers/records.js")

/**
 * The records the argument names: those of an export (`ExportsClient.records`, every part in order) or of one
 * file (`ExportsClient.fileRecords`); anything else is refused before any request. The client checks the rest
 * of the id's shape.
 *
 * @since 0.1.0
 * @category programs
 */
export const recordsOf = (
  id: string
): Effect.Effect<
  Stream.Stream<Records.ProfileRecord, ExportsClient.RecordsError>,
  ClientError.InvalidArgument,
  ExportsClient.ExportsClient
> => Effect.flatMap(sourceOf(id), (source) => lazily(load, (handler) => handler.recordsOf(source, id)))

const id = Args.text({ name: "export_id|file_id" }).pipe(
  Args.withDescription("An export (export_…: every part, in part order) or one of its files (file_…)")
)

const limit = Flags.wholeNumber("limit", 1, Number.MAX_SAFE_INTEGER, "Stop after this many records").pipe(
  Options.optional
)

/**
 * `batch-export records <export_id|file_id> [--limit N] [--wait] [--poll-interval DURATION] [--timeout DURATION] [--json] [--base-url URL] [--api-version V]
 * [--idle-timeout DURATION]`
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "records",
  {
    id,
    limit,
    wait: Flags.wait,
    pollInterval: Flags.pollInterval,
    timeout: Flags.timeout,
    // NDJSON already: the flag only makes errors JSON too
    json: Flags.json,
    baseUrl: Flags.baseUrl,
    apiVersion: Flags.apiVersion,
    idleTimeout: Flags.idleTimeout
  },
  (config) =>
    Effect.flatMap(sourceOf(config.id), (source) => lazily(load, (handler) => handler.records(source, config)))
).pipe(
  Command.withDescription(
    "Print the records of an export or of one file as NDJSON (one JSON object per line), decoded and streamed."
  )
)
