/**
 * What `batch-export list` does once its command line parsed (loaded only then, see `lazily`).
 *
 * @internal
 * @since 0.1.0
 */
import { ExportsClient } from "@batch-export/node"
import * as Chunk from "effect/Chunk"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Client from "../../Client.js"
import { printJson, shown } from "../output.js"
import { HEADER, renderRows, renderTable, rowOf } from "../render/list.js"

/**
 * The parsed command line of `list`.
 *
 * @internal
 * @since 0.1.0
 * @category models
 */
export interface Config extends Client.Overrides {
  readonly limit: Option.Option<number>
  readonly from: Option.Option<string>
  readonly all: boolean
  readonly json: boolean
}

/** One page: the table (and the cursor of the next one on stderr), or the page as Batch sent it. */
const onePage = (json: boolean, options: { readonly limit?: number; readonly from?: string }) =>
  Effect.gen(function* () {
    const client = yield* ExportsClient.ExportsClient
    if (json) return yield* Effect.flatMap(client.listJson(options), printJson)
    const page = yield* client.list(options)
    yield* Console.log(page.exports.length === 0 ? "no exports" : renderTable(page.exports).join("\n"))
    if (page.hasMore) {
      yield* Console.error(
        page.nextFrom === undefined
          ? "more exports exist: use --all to see them all"
          : `more exports exist: --from ${shown(page.nextFrom)} (or --all)`
      )
    }
  })

/**
 * Every page, streamed: rows (or with `--json` each export as Batch sent it, one a line) are printed as each page
 * arrives, in constant memory.
 */
const everyPage = (json: boolean, options: { readonly pageSize?: number }) =>
  Effect.gen(function* () {
    const client = yield* ExportsClient.ExportsClient
    if (json) return yield* Stream.runForEach(client.listAllJson(options), printJson)
    let header = true
    yield* client.listAll(options).pipe(
      Stream.chunks,
      Stream.runForEach((chunk) =>
        Effect.gen(function* () {
          const rows = Chunk.toReadonlyArray(chunk).map(rowOf)
          yield* Console.log(renderRows(header ? [HEADER, ...rows] : rows).join("\n"))
          header = false
        })
      )
    )
    if (header) yield* Console.log("no exports")
  })

/**
 * Prints one page of exports (from `--from`), or every page with `--all`; `--from` with `--all` is refused
 * before this is loaded.
 *
 * @internal
 * @since 0.1.0
 * @category programs
 */
export const list = ({ all, from, json, limit, ...flags }: Config) => {
  const program: Effect.Effect<void, ExportsClient.ApiCallError, ExportsClient.ExportsClient> = all
    ? everyPage(json, Option.match(limit, { onNone: () => ({}), onSome: (pageSize) => ({ pageSize }) }))
    : onePage(json, {
        ...Option.match(limit, { onNone: () => ({}), onSome: (limit) => ({ limit }) }),
        ...Option.match(from, { onNone: () => ({}), onSome: (from) => ({ from }) })
      })
  return program.pipe(Effect.provide(Client.layer(flags)))
}
