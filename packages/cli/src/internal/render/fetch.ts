/**
 * What `fetch` prints (see `FetchCommand`), used by the command module and its handler alike.
 *
 * @internal
 * @since 0.1.0
 */
import type { ExportFiles } from "@batch-export/node"

/**
 * The manifest as printed on stdout: one line per file, `<part>\t<path>\t<bytes>`, in part order.
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const renderManifest = (files: ReadonlyArray<ExportFiles.ManifestEntry>): ReadonlyArray<string> =>
  files.map((file) => `${file.part}\t${file.path}\t${file.bytes}`)

/**
 * The manifest as printed with `--json`: every file with `skipped` (true when a re-run found it complete and did
 * not download it).
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const manifestJson = (manifest: ExportFiles.Manifest) => ({
  exportId: manifest.exportId,
  files: manifest.files.map((file) => ({
    part: file.part,
    fileId: file.fileId,
    path: file.path,
    bytes: file.bytes,
    skipped: file.skipped
  }))
})
