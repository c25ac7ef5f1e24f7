/**
 * What `batch-export create …` does once its command line parsed and the request was checked (loaded only then,
 * see `lazily`).
 *
 * @internal
 * @since 0.1.0
 */
import type { CreateExport } from "@batch-export/core"
import { ExportsClient } from "@batch-export/node"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Client from "../../Client.js"
import { printJson } from "../output.js"

/**
 * Creates the export and prints its id.
 *
 * @internal
 * @since 0.1.0
 * @category programs
 */
export const create = (
  request: CreateExport.CreateExportRequestInput,
  flags: { readonly json: boolean } & Client.Overrides
) =>
  Effect.flatMap(ExportsClient.ExportsClient, (client) => client.create(request)).pipe(
    Effect.flatMap((id) => (flags.json ? printJson({ id }) : Console.log(id))),
    Effect.provide(Client.layer({ baseUrl: flags.baseUrl, apiVersion: flags.apiVersion }))
  )
