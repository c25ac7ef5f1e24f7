/**
 * What `batch-export view` does once its command line parsed (loaded only then, see `lazily`).
 *
 * @internal
 * @since 0.1.0
 */
import { ExportsClient } from "@batch-export/node"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Client from "../../Client.js"
import { renderExport } from "../render/view.js"
import { printJson } from "../output.js"

/**
 * The parsed command line of `view`.
 *
 * @internal
 * @since 0.1.0
 * @category models
 */
export interface Config extends Client.Overrides {
  readonly exportId: string
  readonly json: boolean
}

/**
 * Prints the export: a summary, or with `--json` Batch's answer untouched (unknown fields, its date spellings),
 * after the same checks.
 *
 * @internal
 * @since 0.1.0
 * @category programs
 */
export const view = ({ exportId, json, ...flags }: Config) =>
  Effect.gen(function* () {
    const client = yield* ExportsClient.ExportsClient
    yield* json
      ? Effect.flatMap(client.viewJson(exportId), printJson)
      : Effect.flatMap(client.view(exportId), (exp) => Console.log(renderExport(exp).join("\n")))
  }).pipe(Effect.provide(Client.layer(flags)))
