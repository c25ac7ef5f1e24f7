/**
 * `Range: bytes=…` parsing (RFC 9110 §14), single ranges only. Anything the emulator does not understand is
 * ignored, as the RFC allows, and the whole representation is served.
 *
 * @internal
 */

/** @internal */
export type ByteRange =
  | { readonly _tag: "Full" }
  | { readonly _tag: "Partial"; readonly start: number; readonly end: number }
  | { readonly _tag: "Unsatisfiable" }

const full: ByteRange = { _tag: "Full" }
const unsatisfiable: ByteRange = { _tag: "Unsatisfiable" }

/** @internal */
export const parse = (header: string | undefined, size: number): ByteRange => {
  if (header === undefined) return full
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  if (match === null) return full
  const [, first = "", last = ""] = match
  if (first === "" && last === "") return full
  if (first === "") {
    const suffix = Number(last)
    if (suffix === 0 || size === 0) return unsatisfiable
    return { _tag: "Partial", start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(first)
  if (last !== "" && Number(last) < start) return full
  if (start >= size) return unsatisfiable
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1)
  return { _tag: "Partial", start, end }
}

/** `range` moved to start at `start` (to the end of the file), when it is a satisfiable range. @internal */
export const startingAt = (range: ByteRange, start: number, size: number): ByteRange =>
  range._tag !== "Partial" ? range : start >= size ? unsatisfiable : { _tag: "Partial", start, end: size - 1 }
