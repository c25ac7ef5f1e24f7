/**
 * `batch-export create attributes …`: creates an export through `ExportsClient.create` and prints its id, alone,
 * on stdout (so that `id=$(batch-export create attributes …)` works).
 *
 * @since 0.1.0
 */
import { ClientError, type CreateExport } from "@batch-export/core"
import { ExportsClient } from "@batch-export/node"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Arr from "effect/Array"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Client from "../Client.js"

/**
 * The flags of `create attributes`, as parsed.
 *
 * @since 0.1.0
 * @category models
 */
export interface AttributesFlags {
  readonly attributes: ReadonlyArray<string>
  readonly identifiers: ReadonlyArray<string>
  readonly segment: Option.Option<string>
}

const invalid = (argument: string, detail: string) => Effect.fail(new ClientError.InvalidArgument({ argument, detail }))

const blank = (value: string) => value.trim() === ""

/**
 * The create request for `create attributes`, or the `InvalidArgument` naming the flag at fault: at least one
 * `--attribute` or `--identifier`, none of them empty, and a non-empty `--segment` when given.
 *
 * @since 0.1.0
 * @category validation
 */
export const attributesRequest = (
  flags: AttributesFlags
): Effect.Effect<CreateExport.CreateExportRequestInput, ClientError.InvalidArgument> => {
  if (flags.attributes.length === 0 && flags.identifiers.length === 0) {
    return invalid("--attribute/--identifier", "an ATTRIBUTES export needs at least one --attribute or --identifier")
  }
  if (flags.attributes.some(blank)) return invalid("--attribute", "an attribute name must not be empty")
  if (flags.identifiers.some(blank)) return invalid("--identifier", "an identifier name must not be empty")
  if (Option.exists(flags.segment, blank)) return invalid("--segment", "the segment code must not be empty")
  return Effect.succeed({
    export_type: "ATTRIBUTES",
    ...(Arr.isNonEmptyReadonlyArray(flags.attributes) ? { attributes: flags.attributes } : {}),
    ...(flags.identifiers.length > 0 ? { identifiers: flags.identifiers } : {}),
    ...Option.match(flags.segment, { onNone: () => ({}), onSome: (segment) => ({ filter: { segment } }) })
  })
}

const attribute = Options.text("attribute").pipe(
  Options.withPseudoName("NAME"),
  Options.withDescription("An attribute to export, e.g. $language or a custom one (repeatable)"),
  Options.repeated
)

const identifier = Options.text("identifier").pipe(
  Options.withPseudoName("NAME"),
  Options.withDescription("An identifier to export, e.g. custom_id or installation_ids (repeatable)"),
  Options.repeated
)

const segment = Options.text("segment").pipe(
  Options.withPseudoName("CODE"),
  Options.withDescription("Only the profiles of this segment"),
  Options.optional
)

/**
 * `batch-export create attributes --attribute A… --identifier I… [--segment CODE] [--base-url URL]
 * [--api-version V]`
 *
 * @since 0.1.0
 * @category commands
 */
export const attributesCommand = Command.make(
  "attributes",
  { attributes: attribute, identifiers: identifier, segment, baseUrl: Client.baseUrl, apiVersion: Client.apiVersion },
  ({ apiVersion, baseUrl, ...flags }) =>
    // the flags are checked before the configuration is read and any request is made
    Effect.flatMap(attributesRequest(flags), (request) =>
      Effect.flatMap(ExportsClient.ExportsClient, (client) => client.create(request)).pipe(
        Effect.flatMap((id) => Console.log(id)),
        Effect.provide(Client.layer({ baseUrl, apiVersion }))
      )
    )
).pipe(
  Command.withDescription(
    "Create a snapshot of profile attributes and print the new export's id (and nothing else) on stdout."
  )
)

/**
 * `batch-export create <type> …`: only `attributes` for now.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("create", {}, () =>
  invalid("export type", "choose one: batch-export create attributes --attribute NAME … (see --help)")
).pipe(
  Command.withDescription("Create an export (prints its id). Credentials come from the environment."),
  Command.withSubcommands([attributesCommand])
)
