/**
 * Wiring: configuration defaults, seeded exports, both origins, and the `Service` handed to tests.
 *
 * @internal
 */
import type { ServeError } from "@effect/platform/HttpServerError"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Dataset from "../Dataset.js"
import type { ExportInfo, Options, SeedExport, Service } from "../Emulator.js"
import * as Api from "./api.js"
import { Control } from "./control.js"
import { listen } from "./server.js"
import * as Storage from "./storage.js"
import { Store } from "./store.js"

/** @internal */
export const defaultRestApiKey = "emulator_rest_key_0000000000000000"

/** @internal */
export const defaultProjectKey = "project_emulator0000000000000000000000"

/** 2024-02-28T16:28:42Z, the request date of Batch's documented example. */
const SEED_EPOCH = 1_709_137_722_000
const HOUR = 3_600_000

const SEED_ATTRIBUTES = [
  "$email_address",
  "$email_marketing",
  "$language",
  "$region",
  "$timezone",
  "$phone_number",
  "$sms_marketing",
  "first_name",
  "last_name",
  "city",
  "plan",
  "lifetime_value",
  "signup_date",
  "topics",
  "nickname"
]

const seedRequest = (exportType: Dataset.ExportType, requestDate: number): unknown => {
  switch (exportType) {
    case "ATTRIBUTES":
      return { export_type: "ATTRIBUTES", attributes: SEED_ATTRIBUTES, identifiers: ["custom_id", "installation_ids"] }
    case "EVENTS":
    case "REACHABILITY":
      return {
        export_type: exportType,
        from: Dataset.formatDate(requestDate - 30 * 24 * HOUR),
        to: Dataset.formatDate(requestDate)
      }
  }
}

const defaultExports: ReadonlyArray<SeedExport> = [{ status: "SUCCESS", parts: 2, recordsPerPart: 200 }]

/** @internal */
export const make = (options: Options = {}): Effect.Effect<Service, ServeError, Scope.Scope> =>
  Effect.gen(function* () {
    const seed = options.seed ?? 1
    const restApiKey = options.restApiKey ?? defaultRestApiKey
    const projectKey = options.projectKey ?? defaultProjectKey
    const store = new Store({
      seed,
      pollsPerStatus: options.pollsPerStatus ?? 1,
      recordsPerPart: options.recordsPerPart ?? 100,
      partsPerExport: options.partsPerExport ?? 2,
      bytesPerPart: options.bytesPerPart
    })
    const seeds = options.exports ?? defaultExports
    seeds.forEach((spec, i) => {
      const exportType = spec.exportType ?? "ATTRIBUTES"
      const requestDate = SEED_EPOCH + (i - seeds.length + 1) * HOUR
      store.add({
        exportType,
        request: seedRequest(exportType, requestDate),
        requestDate,
        status: spec.status ?? "SUCCESS",
        progressive: false,
        parts: spec.parts,
        recordsPerPart: spec.recordsPerPart ?? 200,
        bytesPerPart: spec.bytesPerPart,
        window: exportType === "ATTRIBUTES" ? undefined : { from: requestDate - 30 * 24 * HOUR, to: requestDate }
      })
    })
    const control = new Control()
    const api = yield* listen(options.apiPort ?? 0)
    const storage = yield* listen(options.storagePort ?? 0)
    const ctx = {
      store,
      control,
      restApiKey,
      projectKey,
      apiUrl: api.url,
      storageUrl: storage.url,
      secret: `batch-export-emulator:${seed}:${restApiKey}`,
      linkTtlSeconds: Math.max(1, Math.round(Duration.toSeconds(Duration.decode(options.linkTtl ?? "20 minutes")))),
      storageRejectsAuthorization: options.storageRejectsAuthorization ?? true,
      location: options.location
    }
    yield* api.serve(Api.app(ctx))
    yield* storage.serve(Storage.app(ctx))

    const exports = Effect.sync((): ReadonlyArray<ExportInfo> =>
      store.exports.map((entry) => {
        const parts = store.parts(entry)
        return {
          id: entry.id,
          status: entry.status,
          exportType: entry.exportType,
          files: entry.fileIds.map((id, i) => ({ id, part: i + 1, size: parts[i]!.size }))
        }
      })
    )
    return {
      apiUrl: api.url,
      storageUrl: storage.url,
      restApiKey,
      projectKey,
      exports,
      fileBytes: (fileId, options) =>
        Effect.suspend(() => {
          const part = store.file(fileId, options?.changed === true)
          return part === undefined
            ? Effect.fail(new Cause.NoSuchElementException(`no file ${fileId}`))
            : Effect.succeed(Dataset.bytes(part))
        }),
      script: (route, ...replies) => Effect.sync(() => control.enqueue(route, replies)),
      requests: Effect.sync(() => [...control.requests]),
      clearRequests: Effect.sync(() => {
        control.requests.length = 0
      }),
      openConnections: Effect.sync(() => ({ api: api.openConnections(), storage: storage.openConnections() }))
    }
  })
