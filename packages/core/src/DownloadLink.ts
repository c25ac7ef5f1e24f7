/**
 * A signed download link, as returned by `/exports/download`'s redirect.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
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
 * The one rule for following a `Location`, whoever sent it: resolved against the URL that answered (RFC
 * 9110 allows a relative reference); only `http:` and `https:`; never from `https:` down to `http:`; never
 * one with credentials (`user:password@`), which the client would not send: a fetch transport refuses such
 * a URL and undici drops them, so refusing it here is what holds on every transport.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolveLocation = (options: {
  readonly endpoint: string
  readonly fileId: string
  readonly status: number
  readonly location: string | undefined
  readonly from: URL
}): Either.Either<URL, InvalidLocation> => {
  const fail = (reason: InvalidLocation["reason"]) =>
    Either.left(
      new InvalidLocation({ endpoint: options.endpoint, fileId: options.fileId, status: options.status, reason })
    )
  const location = options.location?.trim()
  if (location === undefined || location === "") return fail("missing")
  let url: URL
  try {
    url = new URL(location, options.from)
  } catch {
    return fail("malformed")
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return fail("unsupported-scheme")
  if (url.protocol === "http:" && options.from.protocol === "https:") return fail("insecure-downgrade")
  if (url.username !== "" || url.password !== "") return fail("credentials")
  return Either.right(url)
}

/**
 * Builds the link from `/exports/download`'s redirect, by `resolveLocation`'s rule: `http:` only when the
 * API itself was reached over `http:` (a local emulator).
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
}): Either.Either<DownloadLink, InvalidLocation> =>
  Either.map(
    resolveLocation({
      endpoint: "GET /exports/download",
      fileId: options.fileId,
      status: options.status,
      location: options.location,
      from: options.requestUrl
    }),
    (url) =>
      new DownloadLink(
        {
          fileId: options.fileId,
          url: Redacted.make(url),
          issuedAt: options.issuedAt,
          expiresAt: DateTime.addDuration(options.issuedAt, validity)
        },
        // every field is already of its type (the compiler checks it): re-validating them was most of the
        // cost of building a link (benchmark 5)
        { disableValidation: true }
      )
  )
