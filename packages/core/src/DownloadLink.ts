/**
 * A signed download link, as returned by `/exports/download`'s redirect.
 *
 * @since 0.1.0
 */
import { DateTime, Duration, Either, Redacted, Schema } from "effect"
import { InvalidLocation } from "./ClientError.js"
import { FileId } from "./Ids.js"

/**
 * How long Batch documents a link to stay valid.
 *
 * @since 0.1.0
 * @category constants
 */
export const validity: Duration.Duration = Duration.minutes(20)

/**
 * A signed link to one export file. The URL grants access to the file, so it is `Redacted`: it prints as
 * `<redacted>` in logs, errors and JSON.
 *
 * @since 0.1.0
 * @category models
 */
export class DownloadLink extends Schema.Class<DownloadLink>("DownloadLink")({
  fileId: FileId,
  url: Schema.RedactedFromSelf(Schema.URLFromSelf),
  issuedAt: Schema.DateTimeUtcFromSelf,
  expiresAt: Schema.DateTimeUtcFromSelf
}) {
  /**
   * Whether the link is past its expiry at `now`, with `margin` to spare for the request itself.
   *
   * @since 0.1.0
   */
  isExpired(now: DateTime.Utc, margin: Duration.DurationInput = Duration.zero): boolean {
    return DateTime.greaterThanOrEqualTo(DateTime.addDuration(now, margin), this.expiresAt)
  }
}

/**
 * Builds the link from a redirect's `Location`, resolved against the request URL (RFC 9110 allows a
 * relative reference). Only `http:` and `https:` are accepted, and `http:` only when the API itself was
 * reached over `http:` (a local emulator): a downgrade from an https API is refused.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromLocation = (options: {
  readonly fileId: FileId
  readonly status: number
  readonly location: string | undefined
  readonly requestUrl: URL
  readonly issuedAt: DateTime.Utc
}): Either.Either<DownloadLink, InvalidLocation> => {
  const fail = (reason: InvalidLocation["reason"]) =>
    Either.left(new InvalidLocation({ fileId: options.fileId, status: options.status, reason }))
  const location = options.location?.trim()
  if (location === undefined || location === "") return fail("missing")
  let url: URL
  try {
    url = new URL(location, options.requestUrl)
  } catch {
    return fail("malformed")
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return fail("unsupported-scheme")
  if (url.protocol === "http:" && options.requestUrl.protocol === "https:") return fail("insecure-downgrade")
  return Either.right(
    new DownloadLink({
      fileId: options.fileId,
      url: Redacted.make(url),
      issuedAt: options.issuedAt,
      expiresAt: DateTime.addDuration(options.issuedAt, validity)
    })
  )
}
