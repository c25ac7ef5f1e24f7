/**
 * Batch identifiers: branded strings validated by prefix.
 *
 * Batch documents `export_`, `file_` and `project_` followed by 32 lower-case alphanumerics; we only
 * require the prefix and a non-empty alphanumeric run, so that a format change on Batch's side does not
 * break the client, while anything that could alter a URL or a header (spaces, `/`, `&`, `?`, `#`, CR/LF)
 * is rejected before any request is made.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
const idSchema = <B extends string>(brand: B, prefix: string, example: string) =>
  Schema.String.pipe(
    Schema.pattern(new RegExp(`^${prefix}[A-Za-z0-9]+$`), {
      message: (issue) =>
        `Expected a Batch ${brand.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()} like "${example}" ` +
        `("${prefix}" followed by letters and digits), got ${JSON.stringify(issue.actual)}`
    }),
    Schema.brand(brand)
  )

/**
 * The id of one export file (`file_…`), as found in `files[].id`; the argument of `/exports/download`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FileId = idSchema("FileId", "file_", "file_etxhwckcfc05egew7y97bdjtc75p7g8b")

/**
 * @since 0.1.0
 * @category schemas
 */
export type FileId = typeof FileId.Type

/**
 * The id of an export request (`export_…`), returned by `POST /profiles/export`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ExportId = idSchema("ExportId", "export_", "export_nvctr8tgdjf7bppacxxt2aeemnjehfmw")

/**
 * @since 0.1.0
 * @category schemas
 */
export type ExportId = typeof ExportId.Type

/**
 * A Batch project key (`project_…`), sent as the `X-Batch-Project` header.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProjectKey = idSchema("ProjectKey", "project_", "project_0664hxvwffvbpn278gxdyhsadddqgna6")

/**
 * @since 0.1.0
 * @category schemas
 */
export type ProjectKey = typeof ProjectKey.Type
