/**
 * Scripted replies: one-off misbehaviours queued with `Emulator.script(route, ...replies)`.
 *
 * @since 0.1.0
 */

/**
 * Answer with this status instead of the normal behaviour. Without `body`, an error status gets the body the origin
 * would normally send for it (Batch's JSON error on the API origin, S3-like XML on the storage origin) and any other
 * status gets an empty body. A string body is sent as-is (`text/plain` unless `headers` say otherwise); an object
 * is sent as JSON.
 *
 * @since 0.1.0
 * @category models
 */
export interface Status {
  readonly _tag: "Status"
  readonly status: number
  readonly body?: string | object | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/**
 * Send the normal status, headers (including the full `Content-Length`) and the first `bytes` bytes of the normal
 * body, then close the connection (once those bytes are flushed), leaving the body incomplete. Combined with a
 * `Range` request, the bytes are those of the requested range.
 *
 * @since 0.1.0
 * @category models
 */
export interface DropAfter {
  readonly _tag: "DropAfter"
  readonly bytes: number
}

/**
 * Send the normal status, headers and the first `bytes` bytes of the normal body, then send nothing more until the
 * client goes away (or the emulator shuts down).
 *
 * @since 0.1.0
 * @category models
 */
export interface StallAfter {
  readonly _tag: "StallAfter"
  readonly bytes: number
}

/**
 * The normal answer, altered. Meant for the `"storage"` route, where every field applies; on an API route only the
 * transport fields (`gzip`, `contentLength`, `dropAfter`, `stallAfter`) do. Applied in this order: which content
 * (`changedContent`), which range (`noRange`, `gzip`), the encoding (`gzip`), then what is announced and sent
 * (`contentLength`, `dropAfter` / `stallAfter`). Built by {@link storage}, {@link wrongLength},
 * {@link changedContent}, {@link changedIgnoringIfRange}, {@link wrongRangeStart}, {@link gzip} and
 * {@link noRange}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Storage {
  readonly _tag: "Storage"
  /**
   * The object has changed, for this request only: serve another deterministic file of the same kind (the same file
   * regenerated with another seed, see `Emulator.Service.fileBytes` with `changed`) under its own strong `ETag`. `If-Range`
   * with the original `ETag` therefore gets a 200 with the whole new body, and a plain `Range` a 206 slice of it.
   */
  readonly changedContent?: boolean | undefined
  /** Ignore `Range` and `If-Range`: 200 with the whole body, `Accept-Ranges: none`. */
  readonly noRange?: boolean | undefined
  /**
   * Ignore `If-Range` (evaluate `Range` whatever the `ETag`), as a storage or proxy that does not implement it
   * does: with `changedContent`, a resume gets a 206 slice of the new bytes under the new `ETag`.
   */
  readonly ignoreIfRange?: boolean | undefined
  /**
   * Answer a satisfiable `Range` with the bytes from this offset to the end instead of those asked for, saying
   * so in `Content-Range` (`bytes <rangeStart>-<last>/<size>`): a 206 that starts at the wrong offset.
   */
  readonly rangeStart?: number | undefined
  /**
   * `Content-Encoding: gzip` whatever the request's `Accept-Encoding`, the way nginx's on-the-fly gzip answers:
   * `Range` ignored (200, whole body), `Content-Length` of the compressed bytes, `Vary: Accept-Encoding`, no
   * `Accept-Ranges`, and the `ETag` made weak (`W/"…"`).
   */
  readonly gzip?: boolean | undefined
  /**
   * Announce this `Content-Length` instead of the real one. Shorter than the real body: only that many bytes are
   * sent and the response ends cleanly (the connection stays usable). Longer: the whole real body is sent, then
   * the connection is closed.
   */
  readonly contentLength?: number | undefined
  /** as {@link DropAfter}, counted on the bytes actually sent (after `gzip`) */
  readonly dropAfter?: number | undefined
  /** as {@link StallAfter}; takes precedence over `dropAfter` */
  readonly stallAfter?: number | undefined
}

/**
 * Answer `status` (302 by default) with `Location: location` and an empty body. Requests that follow it are
 * ordinary requests (each consumes the next scripted reply of its route; see {@link redirect} for the storage
 * origin's `/redirected/` path).
 *
 * @since 0.1.0
 * @category models
 */
export interface Redirect {
  readonly _tag: "Redirect"
  readonly status: number
  readonly location: string
}

/**
 * @since 0.1.0
 * @category models
 */
export type Reply = Status | DropAfter | StallAfter | Storage | Redirect

/**
 * `status(429, { headers: { "retry-after": "7" } })`, `status(500, { body: "<html>…</html>", headers: {...} })`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const status = (
  status: number,
  options?: { readonly body?: string | object | undefined; readonly headers?: Readonly<Record<string, string>> }
): Status => ({ _tag: "Status", status, body: options?.body, headers: options?.headers })

/**
 * @since 0.1.0
 * @category constructors
 */
export const dropAfter = (bytes: number): DropAfter => ({ _tag: "DropAfter", bytes })

/**
 * @since 0.1.0
 * @category constructors
 */
export const stallAfter = (bytes: number): StallAfter => ({ _tag: "StallAfter", bytes })

/**
 * `storage({ gzip: true, dropAfter: 100 })`: several alterations of the normal answer at once.
 *
 * @since 0.1.0
 * @category constructors
 */
export const storage = (options: Omit<Storage, "_tag">): Storage => ({ ...options, _tag: "Storage" })

/**
 * The normal answer announcing `Content-Length: contentLength`: only that many bytes when it is shorter than the
 * real body (a clean, complete-looking response), the whole body then a closed connection when it is longer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const wrongLength = (contentLength: number): Storage => storage({ contentLength })

/**
 * For this request, the file has changed: other bytes under another strong `ETag`, with `Range` / `If-Range`
 * evaluated against them. The next request gets the original file again.
 *
 * @since 0.1.0
 * @category constructors
 */
export const changedContent = (): Storage => storage({ changedContent: true })

/**
 * For this request, the file has changed and the storage ignores `If-Range`: a resume (`Range` + `If-Range` on
 * the old `ETag`) gets a 206 slice of the new bytes under the new strong `ETag`, where a conforming storage sends
 * the whole new object (200). The next request gets the original file again.
 *
 * @since 0.1.0
 * @category constructors
 */
export const changedIgnoringIfRange = (): Storage => storage({ changedContent: true, ignoreIfRange: true })

/**
 * A `Range` request answered with a 206 from `start` to the end of the file instead of the bytes asked for,
 * `Content-Range` saying where it starts (`start` past the end: 416).
 *
 * @since 0.1.0
 * @category constructors
 */
export const wrongRangeStart = (start: number): Storage => storage({ rangeStart: start })

/**
 * The normal answer gzip-compressed (`Content-Encoding: gzip`), ignoring `Range`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const gzip = (): Storage => storage({ gzip: true })

/**
 * The normal answer ignoring `Range` / `If-Range`: 200 with the whole body and `Accept-Ranges: none`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const noRange = (): Storage => storage({ noRange: true })

/**
 * `redirect(location, status = 302)`: a redirect to any URL. The storage origin also serves
 * `GET /redirected/<rest>?<query>` as a 302 to `<storageUrl>/<rest>?<query>` (those requests are recorded but consume
 * no scripted reply), so `redirect(storageUrl + "/redirected/files/…?expires=…&signature=…")` still leads to the
 * file, through two hops.
 *
 * @since 0.1.0
 * @category constructors
 */
export const redirect = (location: string, status = 302): Redirect => ({ _tag: "Redirect", status, location })
