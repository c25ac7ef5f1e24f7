/**
 * `batch-export list`: the most recent exports (one page of `GET /exports/list`), as a table or as Batch's JSON.
 *
 * @since 0.1.0
 */
import { Export } from "@batch-export/core"
import { ExportsClient } from "@batch-export/node"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Client from "../Client.js"
import { formatDate, json } from "../internal/output.js"

/**
 * The exports as a table: id, status, scope, request date, number of files; columns padded to their widest cell.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderTable = (exports: ReadonlyArray<Export.Export>): ReadonlyArray<string> => {
  const rows = [
    ["ID", "STATUS", "SCOPE", "REQUESTED", "FILES"],
    ...exports.map((exp) => [exp.id, exp.status, exp.scope, formatDate(exp.requestDate), String(exp.files.length)])
  ]
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  return rows.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join("  ")
      .trimEnd()
  )
}

const limit = Client.wholeNumber(
  "limit",
  1,
  100,
  "How many exports, most recent first (1 to 100, default Batch's: 10)"
).pipe(Options.optional)

/**
 * `batch-export list [--limit N] [--json] [--base-url URL] [--api-version V]`
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "list",
  { limit, json, baseUrl: Client.baseUrl, apiVersion: Client.apiVersion },
  ({ json, limit, ...flags }) =>
    Effect.gen(function* () {
      const client = yield* ExportsClient.ExportsClient
      const page = yield* client.list(Option.match(limit, { onNone: () => ({}), onSome: (limit) => ({ limit }) }))
      if (json) {
        const encoded = yield* Effect.orDie(Schema.encode(Export.ExportPage)(page))
        return yield* Console.log(JSON.stringify(encoded, null, 2))
      }
      yield* Console.log(page.exports.length === 0 ? "no exports" : renderTable(page.exports).join("\n"))
      if (page.hasMore) yield* Console.error("more exports exist: raise --limit (up to 100) to see more")
    }).pipe(Effect.provide(Client.layer(flags)))
).pipe(Command.withDescription("List the most recent exports (a table, or Batch's JSON with --json)."))
