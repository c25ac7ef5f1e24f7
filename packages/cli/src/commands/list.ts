/**
 * `batch-export list`: exports, most recent first: one page of `GET /exports/list` (from a cursor with
 * `--from`), or every page with `--all`, streamed; as a table or as JSON.
 *
 * @since 0.1.0
 */
// The next import only lets declaration emit name the error types inside the inferred command type.
import type { ClientError, Export } from "@batch-export/core"
import type { ExportsClient } from "@batch-export/node"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Flags from "../Flags.js"
import { UsageError } from "../internal/exit.js"
import { lazily } from "../internal/lazy.js"
import * as table from "../internal/render/list.js"

/**
 * The exports as table rows: id, status, scope, request date, number of files; columns padded to their widest
 * cell (at least the usual width). Server text is sanitized: it goes to a terminal.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderRows: (rows: ReadonlyArray<ReadonlyArray<string>>) => ReadonlyArray<string> = table.renderRows

/**
 * The exports as a table with its header.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderTable: (exports: ReadonlyArray<Export.Export>) => ReadonlyArray<string> = table.renderTable

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

/**
 * `batch-export list [--limit N] [--from CURSOR | --all] [--json] [--base-url URL] [--api-version V]`
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "list",
  { limit, from, all, json: Flags.json, baseUrl: Flags.baseUrl, apiVersion: Flags.apiVersion },
  (config) =>
    // a usage error is found before anything is loaded or read from the environment
    Effect.flatMap(
      config.all && Option.isSome(config.from)
        ? Effect.fail(new UsageError({ message: "--from and --all exclude each other" }))
        : Effect.void,
      () =>
        lazily(
          () => import("../internal/handlers/list.js"),
          (handler) => handler.list(config)
        )
    )
).pipe(
  Command.withDescription(
    "List exports, most recent first: one page (a table, or Batch's JSON with --json), or every page with --all."
  )
)
