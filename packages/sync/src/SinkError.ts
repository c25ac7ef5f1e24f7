/**
 * The errors of the sink: a database that failed or refused (`SinkError`), and a publish asked for before
 * every part of its export was loaded (`PartsNotLoaded`).
 *
 * A database error's text is made safe before it is kept: URLs (a Postgres URL may carry a password) are
 * cut to `<opaque url>`, control characters removed, and the length bounded, because these errors end up in
 * logs, in the run table and in the workflow engine's storage.
 *
 * @since 0.1.0
 */
import { Redaction } from "@batch-export/core"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * The longest `detail` kept, in characters.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxDetailLength = 500

/**
 * Free text made safe to store and show: URLs reduced to their origin (a connection string's user and
 * password never survive), bearer tokens and `secrets` redacted (core's `Redaction.scrub`: also percent-encoded
 * or in another letter case), control characters removed, at most `maxLength` characters (default
 * {@link maxDetailLength}).
 *
 * @since 0.1.0
 * @category combinators
 */
export const sanitizeDetail = (
  text: string,
  maxLength: number = maxDetailLength,
  secrets: ReadonlyArray<string> = []
): string => {
  const safe = Redaction.sanitize(Redaction.scrub(text, secrets))
  return safe.length <= maxLength ? safe : `${safe.slice(0, maxLength - 1)}…`
}

const messageOf = (u: unknown): string =>
  Predicate.hasProperty(u, "message") && typeof u.message === "string" ? u.message : ""

/**
 * A database operation failed: the database is down, refused the connection or the statement, or the
 * driver could not be loaded. `operation` names the sink operation (`loadPart`, `publishSnapshot`, …),
 * `detail` the database's reason (sanitized, see {@link sanitizeDetail}) and `code` its error code when
 * it gave one (a Postgres SQLSTATE such as `57P01`, a SQLite code such as `SQLITE_READONLY`).
 *
 * @since 0.1.0
 * @category errors
 */
export class SinkError extends Schema.TaggedError<SinkError>()("SinkError", {
  operation: Schema.String,
  detail: Schema.String,
  code: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return `database error in ${this.operation}${this.code === undefined ? "" : ` (${this.code})`}: ${this.detail}`
  }

  /**
   * Whether another attempt may succeed: the database was away (the connection refused, lost or cut by a
   * restart: Postgres SQLSTATE class `08`, `57P01`–`57P03`, `53300`, a socket error) or busy (`SQLITE_BUSY`,
   * `SQLITE_LOCKED`). A full disk, a read-only file, a refused password or a refused statement are not.
   *
   * @since 0.1.0
   */
  get transient(): boolean {
    const code = this.code ?? ""
    return (
      code.startsWith("08") ||
      ["57P01", "57P02", "57P03", "53300", "SQLITE_BUSY", "SQLITE_LOCKED"].includes(code) ||
      // ENOENT: the Unix socket of a server that is restarting
      /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|NOTFOUND|AI_AGAIN|HOSTUNREACH|NETUNREACH|NOENT)$/.test(code) ||
      // node-postgres says so in words only
      /connection (terminated|ended|closed|error)|terminating connection|failed to acquire connection/i.test(
        this.detail
      )
    )
  }

  /**
   * A `SinkError` from what a driver failed with: an `@effect/sql` `SqlError` (its message, and its cause's
   * message and code) or anything thrown. `secrets` (a password, a URL) are cut from the text, on top of the
   * sanitizing every detail gets.
   *
   * @since 0.1.0
   */
  static fromUnknown(operation: string, secrets: ReadonlyArray<string> = []): (error: unknown) => SinkError {
    return (error) => {
      // the driver's reason is often a few causes down (MigrationError → SqlError → the driver's error)
      const chain: Array<unknown> = []
      for (let link: unknown = error; link !== undefined && chain.length < 4;) {
        chain.push(link)
        link = Predicate.hasProperty(link, "cause") ? link.cause : undefined
      }
      const code = chain
        .map((link) => (Predicate.hasProperty(link, "code") && typeof link.code === "string" ? link.code : ""))
        .find((c) => c.length > 0)
      const texts = [...new Set(chain.map(messageOf).map((text) => text.trim()))].filter((text) => text.length > 0)
      const text = texts.length === 0 ? "unknown database error" : texts.join(": ")
      return new SinkError({
        operation,
        detail: sanitizeDetail(text, maxDetailLength, secrets),
        ...(code === undefined ? {} : { code })
      })
    }
  }
}

/**
 * A publish was asked for an export whose parts are not all loaded (or were loaded as another export type):
 * nothing was published. `missing` lists the part numbers (1-based) that have no completed `loadPart`.
 *
 * @since 0.1.0
 * @category errors
 */
export class PartsNotLoaded extends Schema.TaggedError<PartsNotLoaded>()("PartsNotLoaded", {
  project: Schema.String,
  exportId: Schema.String,
  missing: Schema.Array(Schema.Number)
}) {
  override get message(): string {
    const shown = this.missing.slice(0, 10).join(", ")
    const more = this.missing.length > 10 ? ` and ${this.missing.length - 10} more` : ""
    return `export ${this.exportId} of ${this.project} cannot be published: part(s) ${shown}${more} not loaded`
  }
}
