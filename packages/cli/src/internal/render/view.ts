/**
 * What `view` prints (see `ViewCommand`), used by the command module and its handler alike.
 *
 * @internal
 * @since 0.1.0
 */
import type { Export } from "@batch-export/core"
import { formatDate, shown } from "../output.js"

/**
 * The human summary of an export: id, scope, status, dates, then one line per file (part, id, size). Server
 * text is sanitized: it goes to a terminal.
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const renderExport = (exp: Export.Export): ReadonlyArray<string> => [
  `id         ${exp.id}`,
  `scope      ${shown(exp.scope)}`,
  `status     ${shown(exp.status)}`,
  `requested  ${formatDate(exp.requestDate)}`,
  `started    ${formatDate(exp.startDate)}`,
  `completed  ${formatDate(exp.completionDate)}`,
  `files      ${exp.parts.length}`,
  ...exp.parts.map((file) => `  part ${file.part}  ${file.id}  ${file.size} bytes`)
]
