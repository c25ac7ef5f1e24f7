/**
 * Tables as the CLI prints them: cells padded to their column's widest, two spaces apart, the last column unpadded.
 */

/**
 * The rows as lines; `minWidths` keeps a column at least that wide (the usual width of a table's first page).
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const columns = (
  rows: ReadonlyArray<ReadonlyArray<string>>,
  minWidths: ReadonlyArray<number> = []
): ReadonlyArray<string> => {
  const count = Math.max(minWidths.length, ...rows.map((row) => row.length))
  const widths = Array.from({ length: count }, (_, column) =>
    Math.max(minWidths[column] ?? 0, ...rows.map((row) => row[column]?.length ?? 0))
  )
  return rows.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd()
  )
}
