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
 * @since 0.1.0
 * @category models
 */
export type Reply = Status | DropAfter | StallAfter

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
