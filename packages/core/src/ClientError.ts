/**
 * Failures on the client's side of the wire: transport, redirects, decoding, timeouts, storage, files,
 * and bad arguments. None of them carries a credential or a signed URL.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
/**
 * The request never got an HTTP answer: connection refused or reset, DNS, TLS, a body cut short.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  /** `"GET /exports/download"`, or `"GET storage"` for the signed link. */
  endpoint: Schema.String,
  /** What the transport said, with URLs reduced to their origin. */
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.endpoint} failed: ${this.detail}`
  }
}

/**
 * A redirect without a usable `Location`: `/exports/download`'s signed link, or a redirect of the storage
 * itself. `endpoint` names which; `status` is the redirect's HTTP status.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidLocation extends Schema.TaggedError<InvalidLocation>()("InvalidLocation", {
  /** `"GET /exports/download"`, or `"GET storage"` for a redirect of the storage. */
  endpoint: Schema.String,
  fileId: Schema.String,
  status: Schema.Number,
  reason: Schema.Literal(
    "missing",
    "malformed",
    "unsupported-scheme",
    "insecure-downgrade",
    "credentials",
    "too-many-redirects"
  )
}) {
  override get message(): string {
    const why = {
      missing: "without a Location header",
      malformed: "with a Location that is not a URL",
      "unsupported-scheme": "with a Location that is neither http nor https",
      "insecure-downgrade": "with a plain-http Location although the request was https",
      credentials: "with a Location that carries a user name or password",
      "too-many-redirects": "once more after too many redirects"
    }[this.reason]
    return `${this.endpoint} for ${this.fileId} answered HTTP ${this.status} ${why}`
  }
}

/**
 * A success response whose body is not what Batch documents.
 *
 * @since 0.1.0
 * @category errors
 */
export class ResponseDecodeError extends Schema.TaggedError<ResponseDecodeError>()("ResponseDecodeError", {
  endpoint: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.endpoint} returned a body that does not decode: ${this.detail}`
  }
}

/**
 * A request or a download made no progress within its configured time.
 *
 * @since 0.1.0
 * @category errors
 */
export class RequestTimeout extends Schema.TaggedError<RequestTimeout>()("RequestTimeout", {
  endpoint: Schema.String,
  timeout: Schema.DurationFromSelf
}) {
  override get message(): string {
    return `${this.endpoint} timed out after ${Duration.format(this.timeout)}`
  }
}

/**
 * The storage host refused the signed link (expired or bad signature, missing object…).
 *
 * @since 0.1.0
 * @category errors
 */
export class StorageError extends Schema.TaggedError<StorageError>()("StorageError", {
  status: Schema.Number,
  /** Only the origin of the signed link. */
  origin: Schema.String
}) {
  override get message(): string {
    return `storage at ${this.origin} answered HTTP ${this.status}`
  }
}

/**
 * Writing the downloaded file failed (permissions, disk full, missing directory…).
 *
 * @since 0.1.0
 * @category errors
 */
export class FileWriteError extends Schema.TaggedError<FileWriteError>()("FileWriteError", {
  path: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `could not write ${this.path}: ${this.detail}`
  }
}

/**
 * An argument was rejected before any request was made.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidArgument extends Schema.TaggedError<InvalidArgument>()("InvalidArgument", {
  argument: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `invalid ${this.argument}: ${this.detail}`
  }
}
