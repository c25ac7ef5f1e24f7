/**
 * `batch-export create attributes|events|reachability …`: creates an export through `ExportsClient.create` and
 * prints its id, alone, on stdout (so that `id=$(batch-export create attributes …)` works), or `{"id": …}` with
 * `--json`.
 *
 * @since 0.1.0
 */
import { ClientError, type CreateExport } from "@batch-export/core"
import type { ExportsClient } from "@batch-export/node"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Arr from "effect/Array"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Flags from "../Flags.js"
import { UsageError } from "../internal/exit.js"
import { lazily } from "../internal/lazy.js"

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
 * @category decoding
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

/**
 * The flags of `create events` and `create reachability`, as parsed (`events` only for `create events`).
 *
 * @since 0.1.0
 * @category models
 */
export interface WindowFlags {
  readonly from: Option.Option<string>
  readonly to: Option.Option<string>
  readonly events?: ReadonlyArray<string> | undefined
  readonly identifiers: ReadonlyArray<string>
  readonly segment: Option.Option<string>
}

const date = (flag: string, value: Option.Option<string>) =>
  Option.match(value, {
    onNone: () => Effect.succeed(Option.none<DateTime.Utc>()),
    onSome: (text) =>
      Option.match(DateTime.make(text), {
        onNone: () =>
          invalid(flag, `expected an RFC 3339 date such as 2026-01-31T00:00:00Z, got ${JSON.stringify(text)}`),
        onSome: (parsed) => Effect.succeed(Option.some(DateTime.toUtc(parsed)))
      })
  })

/**
 * The create request for `create events` or `create reachability`, or the `InvalidArgument` naming the flag at
 * fault: `--from`/`--to` RFC 3339 dates in order, no empty `--event`, `--identifier` or `--segment`.
 *
 * @since 0.1.0
 * @category decoding
 */
export const windowRequest = (
  exportType: "EVENTS" | "REACHABILITY",
  flags: WindowFlags
): Effect.Effect<CreateExport.CreateExportRequestInput, ClientError.InvalidArgument> =>
  Effect.gen(function* () {
    const from = yield* date("--from", flags.from)
    const to = yield* date("--to", flags.to)
    if (Option.isSome(from) && Option.isSome(to) && DateTime.greaterThan(from.value, to.value)) {
      return yield* invalid("--from", "must not be after --to")
    }
    const events = flags.events ?? []
    if (events.some(blank)) return yield* invalid("--event", "an event name must not be empty")
    if (flags.identifiers.some(blank)) return yield* invalid("--identifier", "an identifier name must not be empty")
    if (Option.exists(flags.segment, blank)) return yield* invalid("--segment", "the segment code must not be empty")
    const window = {
      ...Option.match(from, { onNone: () => ({}), onSome: (d) => ({ from: DateTime.formatIso(d) }) }),
      ...Option.match(to, { onNone: () => ({}), onSome: (d) => ({ to: DateTime.formatIso(d) }) }),
      ...(flags.identifiers.length > 0 ? { identifiers: flags.identifiers } : {}),
      ...Option.match(flags.segment, { onNone: () => ({}), onSome: (segment) => ({ filter: { segment } }) })
    }
    return exportType === "EVENTS"
      ? { export_type: "EVENTS", ...window, ...(events.length > 0 ? { events } : {}) }
      : { export_type: "REACHABILITY", ...window }
  })

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

const from = Options.text("from").pipe(
  Options.withPseudoName("DATE"),
  Options.withDescription("Start of the window, RFC 3339 (e.g. 2026-01-01T00:00:00Z; Batch keeps 90 days)"),
  Options.optional
)

const to = Options.text("to").pipe(
  Options.withPseudoName("DATE"),
  Options.withDescription("End of the window, RFC 3339"),
  Options.optional
)

const event = Options.text("event").pipe(
  Options.withPseudoName("NAME"),
  Options.withDescription("An event to export (repeatable; default: all of them)"),
  Options.repeated
)

const common = { json: Flags.json, baseUrl: Flags.baseUrl, apiVersion: Flags.apiVersion }

/** Creates the export and prints its id; the request was checked before the configuration is read. */
const createAndPrint = (
  request: Effect.Effect<CreateExport.CreateExportRequestInput, ClientError.InvalidArgument>,
  flags: { readonly json: boolean; readonly baseUrl: Option.Option<string>; readonly apiVersion: Option.Option<string> }
) =>
  Effect.flatMap(request, (request) =>
    lazily(
      () => import("../internal/handlers/create.js"),
      (handler) => handler.create(request, flags)
    )
  )

/**
 * `batch-export create attributes --attribute A… --identifier I… [--segment CODE] [--json] [--base-url URL]
 * [--api-version V]`
 *
 * @since 0.1.0
 * @category commands
 */
export const attributesCommand = Command.make(
  "attributes",
  { attributes: attribute, identifiers: identifier, segment, ...common },
  ({ attributes, identifiers, segment, ...flags }) =>
    createAndPrint(attributesRequest({ attributes, identifiers, segment }), flags)
).pipe(
  Command.withDescription(
    "Create a snapshot of profile attributes and print the new export's id (and nothing else) on stdout."
  )
)

/**
 * `batch-export create events [--from DATE] [--to DATE] [--event NAME…] [--identifier I…] [--segment CODE]
 * [--json] [--base-url URL] [--api-version V]`
 *
 * @since 0.1.0
 * @category commands
 */
export const eventsCommand = Command.make(
  "events",
  { from, to, events: event, identifiers: identifier, segment, ...common },
  ({ events, from, identifiers, segment, to, ...flags }) =>
    createAndPrint(windowRequest("EVENTS", { from, to, events, identifiers, segment }), flags)
).pipe(
  Command.withDescription(
    "Create an export of profile events over a window (90-day lookback) and print the new export's id on stdout."
  )
)

/**
 * `batch-export create reachability [--from DATE] [--to DATE] [--identifier I…] [--segment CODE] [--json]
 * [--base-url URL] [--api-version V]`
 *
 * @since 0.1.0
 * @category commands
 */
export const reachabilityCommand = Command.make(
  "reachability",
  { from, to, identifiers: identifier, segment, ...common },
  ({ from, identifiers, segment, to, ...flags }) =>
    createAndPrint(windowRequest("REACHABILITY", { from, to, identifiers, segment }), flags)
).pipe(
  Command.withDescription(
    "Create an export of opt-in/opt-out history per channel (since 2024-10-10, 90-day lookback) and print its id."
  )
)

/**
 * The subcommands of `create`, in the order the help lists them.
 *
 * @since 0.1.0
 * @category commands
 */
export const subcommands = [attributesCommand, eventsCommand, reachabilityCommand] as const

/**
 * `batch-export create <attributes|events|reachability> …`; a bare `create` is a usage error (exit 2).
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("create", {}, () =>
  Effect.fail(
    new UsageError({ message: "choose what to export: create attributes|events|reachability … (see --help)" })
  )
).pipe(
  Command.withDescription("Create an export (prints its id). Credentials come from the environment."),
  Command.withSubcommands(subcommands)
)
