import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { createRequire } from "node:module"

const Manifest = Schema.Struct({ version: Schema.String })

/**
 * The version in this package's own package.json, read when the CLI starts, so `--version` always names
 * what is installed (changesets bumps package.json, nothing else). Resolved by the package's own name
 * (`exports` lists `./package.json`), which works from `src/` and from `dist/src/` alike.
 *
 * @internal
 * @since 0.1.0
 * @category constants
 */
export const packageVersion = (moduleUrl: string, packageName: string): string =>
  Option.liftThrowable((): unknown => createRequire(moduleUrl)(`${packageName}/package.json`))().pipe(
    Option.flatMap(Schema.decodeUnknownOption(Manifest)),
    // never a crash at start-up: the package.json is ours, so "unknown" only shows if it was damaged
    Option.match({ onNone: () => "unknown", onSome: (manifest) => manifest.version })
  )
