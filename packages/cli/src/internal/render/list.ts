/**
 * The table of exports `list` prints (see `ListCommand.renderTable`), used by the command module and its
 * handler alike.
 *
 * @internal
 * @since 0.1.0
 */
import type { Export } from "@batch-export/core"
import { formatDate, shown } from "../output.js"
import { columns } from "./columns.js"

/**
 * The header row.
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const HEADER: ReadonlyArray<string> = ["ID", "STATUS", "SCOPE", "REQUESTED", "FILES"]
/** The usual widths (an id is 39 characters, a date 24), so that the pages of `--all` line up. */
const MIN_WIDTHS = [39, 9, 10, 24, 0]

/**
 * Rows padded to their widest cell per column (at least the usual width).
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const renderRows = (rows: ReadonlyArray<ReadonlyArray<string>>): ReadonlyArray<string> =>
  columns(rows, MIN_WIDTHS)

/**
 * One export's row: id, status, scope, request date, number of files (server text sanitized).
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const rowOf = (exp: Export.Export): ReadonlyArray<string> => [
  exp.id,
  shown(exp.status),
  shown(exp.scope),
  formatDate(exp.requestDate),
  String(exp.files.length)
]

/**
 * The exports as a table with its header.
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const renderTable = (exports: ReadonlyArray<Export.Export>): ReadonlyArray<string> =>
  renderRows([HEADER, ...exports.map(rowOf)])
