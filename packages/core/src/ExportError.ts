/**
 * Failures of the export workflow itself (as opposed to HTTP or transport failures).
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
/**
 * Batch finished the export with status `ERROR`.
 *
 * @since 0.1.0
 * @category errors
 */
export class ExportFailed extends Schema.TaggedError<ExportFailed>()("ExportFailed", {
  exportId: Schema.String
}) {
  override get message(): string {
    return `export ${this.exportId} ended with status ERROR`
  }
}

/**
 * The export is not `SUCCESS` (yet), so it has no files to download.
 *
 * @since 0.1.0
 * @category errors
 */
export class ExportNotReady extends Schema.TaggedError<ExportNotReady>()("ExportNotReady", {
  exportId: Schema.String,
  status: Schema.String
}) {
  override get message(): string {
    return `export ${this.exportId} is ${this.status}, not SUCCESS`
  }
}

/**
 * The export did not finish within the caller's deadline.
 *
 * @since 0.1.0
 * @category errors
 */
export class ExportTimeout extends Schema.TaggedError<ExportTimeout>()("ExportTimeout", {
  exportId: Schema.String,
  timeout: Schema.DurationFromSelf,
  lastStatus: Schema.optional(Schema.String)
}) {
  override get message(): string {
    const last = this.lastStatus === undefined ? "" : ` (last status ${this.lastStatus})`
    return `export ${this.exportId} did not finish within ${Duration.format(this.timeout)}${last}`
  }
}

/**
 * A downloaded file does not have the size Batch announced for it (`files[].size`).
 *
 * @since 0.1.0
 * @category errors
 */
export class SizeMismatch extends Schema.TaggedError<SizeMismatch>()("SizeMismatch", {
  fileId: Schema.String,
  expected: Schema.Number,
  actual: Schema.Number
}) {
  override get message(): string {
    return this.actual > this.expected
      ? `file ${this.fileId} has more than the ${this.expected} bytes Batch announced; stopped at ${this.actual}`
      : `file ${this.fileId} has ${this.actual} bytes, Batch announced ${this.expected}`
  }
}

/**
 * The file changed on the storage side while it was being downloaded (its strong `ETag` differs between
 * attempts), so the bytes received so far cannot be continued.
 *
 * @since 0.1.0
 * @category errors
 */
export class ContentChanged extends Schema.TaggedError<ContentChanged>()("ContentChanged", {
  fileId: Schema.String,
  offset: Schema.Number
}) {
  override get message(): string {
    return `file ${this.fileId} changed on the storage side after ${this.offset} bytes; it must be downloaded again`
  }
}

/**
 * A download went past the caller's `maxBytes` (like curl's `--max-filesize`), or, without any bound from the
 * caller, past the client's `limits.maxDownloadBytes` (`setting` says which); it stopped at the limit and
 * nothing past it was written.
 *
 * @since 0.1.0
 * @category errors
 */
export class DownloadTooLarge extends Schema.TaggedError<DownloadTooLarge>()("DownloadTooLarge", {
  fileId: Schema.String,
  maxBytes: Schema.Number,
  /** The setting the limit comes from, when not the caller's `maxBytes` (the client's default ceiling). */
  setting: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return `file ${this.fileId} is larger than the ${this.maxBytes}-byte limit (${this.setting ?? "maxBytes"})`
  }
}

/**
 * Batch's description of an export contradicts itself or the request (another export's id, two files
 * with one part number, a part number below 1): acting on it could overwrite or misplace data.
 *
 * @since 0.1.0
 * @category errors
 */
export class InconsistentExport extends Schema.TaggedError<InconsistentExport>()("InconsistentExport", {
  exportId: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `Batch's answer for export ${this.exportId} is inconsistent: ${this.detail}`
  }
}
