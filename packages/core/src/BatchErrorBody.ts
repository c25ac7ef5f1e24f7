/**
 * The JSON body Batch sends with every error status.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
/**
 * Batch's `error_code`: documented as a string, but the legacy APIs used numbers, so both are accepted.
 *
 * @since 0.1.0
 * @category models
 */
export const ErrorCode = Schema.Union(Schema.String, Schema.Number)

/**
 * @since 0.1.0
 * @category models
 */
export type ErrorCode = typeof ErrorCode.Type

/**
 * `{ error_code, error_message }`, as documented for every error response.
 *
 * @since 0.1.0
 * @category models
 */
export const BatchErrorBody = Schema.Struct({
  error_code: ErrorCode,
  error_message: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type BatchErrorBody = typeof BatchErrorBody.Type

const Lenient = Schema.Struct({
  error_code: Schema.optional(Schema.Unknown),
  error_message: Schema.optional(Schema.Unknown)
})

/**
 * What could be read of an error body: each field independently, so a body with only one of them, extra
 * fields, or no JSON at all (an HTML page from a proxy, an empty body) still yields what is there.
 *
 * @since 0.1.0
 * @category decoding
 */
export const parse = (text: string): { readonly errorCode?: ErrorCode; readonly errorMessage?: string } => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return {}
  }
  return Option.match(Schema.decodeUnknownOption(Lenient)(json), {
    onNone: () => ({}),
    onSome: ({ error_code, error_message }) => ({
      ...(Schema.is(ErrorCode)(error_code) ? { errorCode: error_code } : {}),
      ...(typeof error_message === "string" ? { errorMessage: error_message } : {})
    })
  })
}
