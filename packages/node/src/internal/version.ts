/**
 * This package's version, as its package.json says (changesets bumps package.json, nothing else), and the
 * `User-Agent` the client sends by default.
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { createRequire } from "node:module"

const Manifest = Schema.Struct({ version: Schema.String })

let version: string | undefined

/**
 * Read once, when a client is first configured without a `userAgent` (never at import: a program that sets its
 * own, as the CLI does, pays nothing). Resolved by the package's own name (`exports` lists `./package.json`),
 * which works from `src/` and `dist/src/` alike; "unknown" only if the file cannot be read.
 */
const ownVersion = (): string =>
  (version ??= Option.liftThrowable((): unknown =>
    createRequire(import.meta.url)("@batch-export/node/package.json")
  )().pipe(
    Option.flatMap(Schema.decodeUnknownOption(Manifest)),
    Option.match({ onNone: () => "unknown", onSome: (manifest) => manifest.version })
  ))

/** `batch-export/<version> (node <version>)`, for a product `name` and its version (this package's by default). */
export const userAgent = (name = "batch-export", productVersion: string = ownVersion()): string =>
  `${name}/${productVersion} (node ${process.versions.node})`
