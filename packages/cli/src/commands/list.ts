/**
 * `batch-export list`: exports, most recent first: one page of `GET /exports/list` (from a cursor with
 * `--from`), or every page with `--all`, streamed; as a table or as JSON.
 *
 * @since 0.1.0
 */
// The next import only lets declaration emit name the error types inside the inferred command type.
import type { ClientError } from "@batch-export/core"
import { Export } from "@batch-export/core"
import { ExportsClient } from "@batch-export/node"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Chunk from "effect/Chunk"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Client from "../Client.js"
import * as Failure from "../Failure.js"
import * as Flags from "../Flags.js"
import { formatDate, printJson, shown } from "../internal/output.js"

const HEADER = ["ID", "STATUS", "SCOPE", "REQUESTED", "FILES"]
/** The usual widths (an id is 39 characters, a date 24), so that the pages of `--all` line up. */
const MIN_WIDTHS = [39, 9, 10, 24, 0]

/**
 * The exports as table rows: id, status, scope, request date, number of files; columns padded to their widest
 * cell (at least the usual width). Server text is sanitized: it goes to a terminal.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderRows = (rows: ReadonlyArray<ReadonlyArray<string>>): ReadonlyArray<string> => {
  const widths = MIN_WIDTHS.map((min, column) => Math.max(min, ...rows.map((row) => row[column]?.length ?? 0)))
  return rows.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd()
  )
}

const rowOf = (exp: Export.Export): ReadonlyArray<string> => [
  exp.id,
  shown(exp.status),
  shown(exp.scope),
  formatDate(exp.requestDate),
  String(exp.files.length)
]

/**
 * The exports as a table with its header.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderTable = (exports: ReadonlyArray<Export.Export>): ReadonlyArray<string> =>
  renderRows([HEADER, ...exports.map(rowOf)])

const limit = Flags.wholeNumber(
  "limit",
  1,
  100,
  "How many exports per page, most recent first (1 to 100, default Batch's: 10)"
).pipe(Options.optional)

const from = Options.text("from").pipe(
  Options.withPseudoName("CURSOR"),
  Options.withDescription("Start at this cursor (the next_from of a previous page, printed when there is more)"),
  Options.optional
)

const all = Options.boolean("all").pipe(
  Options.withDescription("Every export, page after page, printed as they arrive (with --json: one JSON object a line)")
)

const encodeExport = Schema.encode(Export.Export)

/** One page: the table (and the cursor of the next one on stderr), or the page as JSON. */
const onePage = (json: boolean, options: { readonly limit?: number; readonly from?: string }) =>
  Effect.gen(function* () {
    const client = yield* ExportsClient.ExportsClient
    const page = yield* client.list(options)
    if (json) return yield* printJson(yield* Effect.orDie(Schema.encode(Export.ExportPage)(page)))
    yield* Console.log(page.exports.length === 0 ? "no exports" : renderTable(page.exports).join("\n"))
    if (page.hasMore) {
      yield* Console.error(
        page.nextFrom === undefined
          ? "more exports exist: use --all to see them all"
          : `more exports exist: --from ${shown(page.nextFrom)} (or --all)`
      )
    }
  })

/** Every page, streamed: rows (or NDJSON lines) are printed as each page arrives, in constant memory. */
const everyPage = (json: boolean, options: { readonly pageSize?: number }) =>
  Effect.gen(function* () {
    const client = yield* ExportsClient.ExportsClient
    let header = !json
    yield* client.listAll(options).pipe(
      Stream.chunks,
      Stream.runForEach((chunk) =>
        Effect.gen(function* () {
          const exports = Chunk.toReadonlyArray(chunk)
          if (json) {
            for (const exp of exports) yield* Console.log(JSON.stringify(yield* Effect.orDie(encodeExport(exp))))
            return
          }
          const rows = exports.map(rowOf)
          yield* Console.log(renderRows(header ? [HEADER, ...rows] : rows).join("\n"))
          header = false
        })
      )
    )
    if (header) yield* Console.log("no exports")
  })

/**
 * `batch-export list [--limit N] [--from CURSOR | --all] [--json] [--base-url URL] [--api-version V]`
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "list",
  { limit, from, all, json: Flags.json, baseUrl: Flags.baseUrl, apiVersion: Flags.apiVersion },
  ({ all, from, json, limit, ...flags }) => {
    const program: Effect.Effect<void, Failure.UsageError | ExportsClient.ApiCallError, ExportsClient.ExportsClient> =
      all && Option.isSome(from)
        ? Effect.fail(new Failure.UsageError({ message: "--from and --all exclude each other" }))
        : all
          ? everyPage(json, Option.match(limit, { onNone: () => ({}), onSome: (pageSize) => ({ pageSize }) }))
          : onePage(json, {
              ...Option.match(limit, { onNone: () => ({}), onSome: (limit) => ({ limit }) }),
              ...Option.match(from, { onNone: () => ({}), onSome: (from) => ({ from }) })
            })
    return program.pipe(Effect.provide(Client.layer(flags)))
  }
).pipe(
  Command.withDescription(
    "List exports, most recent first: one page (a table, or Batch's JSON with --json), or every page with --all."
  )
)
