/**
 * Example: run a whole export and aggregate its records in constant memory — count profiles per
 * `$language` without ever holding more than one record.
 *
 *   pnpm example:aggregate
 *
 * @since 0.1.0
 */
import { type ExportsClient, ExportWorkflow } from "@batch-export/node"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Backend from "./support/Backend.js"

/**
 * @since 0.1.0
 * @category programs
 */
export const program: Effect.Effect<
  HashMap.HashMap<string, number>,
  ExportsClient.AwaitError | ExportsClient.RecordsError,
  ExportsClient.ExportsClient
> = ExportWorkflow.createAndStreamRecords(
  { export_type: "ATTRIBUTES", attributes: ["$language"], identifiers: ["custom_id"] },
  { pollInterval: "5 seconds" }
).pipe(
  Stream.runFold(HashMap.empty<string, number>(), (counts, record) => {
    const language = typeof record.attributes?.["$language"] === "string" ? record.attributes["$language"] : "(none)"
    return HashMap.modifyAt(counts, language, (n) => Option.some(Option.getOrElse(n, () => 0) + 1))
  }),
  Effect.tap((counts) =>
    Effect.forEach(
      [...HashMap.toEntries(counts)].sort((a, b) => b[1] - a[1]),
      ([language, count]) => Console.log(`${language.padEnd(8)} ${count}`),
      { discard: true }
    )
  )
)

if (import.meta.url === `file://${process.argv[1]}`) {
  program.pipe(Effect.provide(Backend.layer), NodeRuntime.runMain)
}
