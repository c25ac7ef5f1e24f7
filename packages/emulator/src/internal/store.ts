/**
 * In-memory state of the emulated project: exports, their files and the (lazily generated, cached) file bytes.
 * All mutation happens synchronously on the Node event loop, wrapped in `Effect.sync` by callers.
 *
 * @internal
 */
import type { ExportStatus } from "@batch-export/core"
import * as Dataset from "../Dataset.js"
import { mix } from "./prng.js"

/** The statuses Batch documents: the emulator never invents another one. @internal */
export type Status = ExportStatus.KnownStatus

/** @internal */
export interface ExportEntry {
  readonly id: string
  readonly index: number
  readonly exportType: Dataset.ExportType
  readonly scope: string
  readonly request: unknown
  readonly requestDate: number
  readonly data: Dataset.PartsOptions
  /** the status it ends in */
  readonly final: Status
  /** created through the API: moves on with each view call */
  readonly progressive: boolean
  readonly fileIds: ReadonlyArray<string>
  views: number
  status: Status
  startDate: number | undefined
  completionDate: number | undefined
}

/** @internal */
export interface FileEntry {
  readonly id: string
  readonly exportId: string
  readonly part: number
}

/** @internal */
export interface StoreConfig {
  readonly seed: number
  readonly pollsPerStatus: number
  readonly recordsPerPart: number
  readonly partsPerExport: number
  readonly bytesPerPart: number | undefined
}

/** @internal */
export interface NewExport {
  readonly exportType: Dataset.ExportType
  readonly request: unknown
  readonly requestDate: number
  readonly status: Status
  readonly progressive: boolean
  readonly parts: number
  readonly recordsPerPart?: number | undefined
  readonly bytesPerPart?: number | undefined
  readonly projection?: Dataset.Projection | undefined
  readonly window?: Dataset.Window | undefined
}

const SCOPES: Record<Dataset.ExportType, string> = {
  ATTRIBUTES: "PROFILE_ATTRIBUTES",
  EVENTS: "PROFILE_EVENTS",
  REACHABILITY: "PROFILE_REACHABILITY"
}

/** salt of the seed of changed files */
const CHANGED = 0x4348474e

const STEPS: ReadonlyArray<Status> = ["CREATED", "PENDING", "RUNNING"]

/** @internal */
export class Store {
  /** in creation order */
  readonly exports: Array<ExportEntry> = []
  readonly exportsById = new Map<string, ExportEntry>()
  readonly files = new Map<string, FileEntry>()
  private readonly cache = new Map<string, ReadonlyArray<Dataset.Part>>()
  private readonly changedCache = new Map<string, ReadonlyArray<Dataset.Part>>()

  constructor(readonly config: StoreConfig) {}

  add(spec: NewExport): ExportEntry {
    const index = this.exports.length
    const id = this.uniqueId("export", index)
    const fileIds: Array<string> = []
    if (spec.status !== "ERROR") {
      for (let part = 1; part <= spec.parts; part++) {
        const fileId = this.uniqueId("file", index, part)
        fileIds.push(fileId)
        this.files.set(fileId, { id: fileId, exportId: id, part })
      }
    }
    const done = !spec.progressive && spec.status === "SUCCESS"
    const entry: ExportEntry = {
      id,
      index,
      exportType: spec.exportType,
      scope: SCOPES[spec.exportType],
      request: spec.request,
      requestDate: spec.requestDate,
      data: {
        seed: mix(this.config.seed, index),
        exportType: spec.exportType,
        parts: fileIds.length,
        recordsPerPart: spec.recordsPerPart ?? this.config.recordsPerPart,
        bytesPerPart: spec.bytesPerPart ?? this.config.bytesPerPart,
        projection: spec.projection,
        window: spec.window
      },
      final: spec.status,
      progressive: spec.progressive,
      fileIds,
      views: 0,
      status: spec.progressive ? "CREATED" : spec.status,
      startDate: done ? spec.requestDate + 6_000 : undefined,
      completionDate: done ? spec.requestDate + 6_000 : undefined
    }
    this.exports.push(entry)
    this.exportsById.set(id, entry)
    return entry
  }

  /**
   * Called by each `/exports/view`: reports the current step, then counts the call. The k-th view (from 0) of a
   * created export reports step `floor(k / pollsPerStatus)` of CREATED, PENDING, RUNNING, then the final status.
   */
  view(entry: ExportEntry, now: number): Status {
    if (!entry.progressive) return entry.status
    const perStatus = this.config.pollsPerStatus
    const step = perStatus <= 0 ? STEPS.length : Math.min(STEPS.length, Math.floor(entry.views / perStatus))
    entry.views++
    entry.status = step < STEPS.length ? STEPS[step]! : entry.final
    if (step >= 2 && entry.startDate === undefined) entry.startDate = now
    if (step >= STEPS.length && entry.completionDate === undefined) entry.completionDate = now
    return entry.status
  }

  parts(entry: ExportEntry, changed = false): ReadonlyArray<Dataset.Part> {
    const cache = changed ? this.changedCache : this.cache
    let parts = cache.get(entry.id)
    if (parts === undefined) {
      parts = Dataset.parts(changed ? { ...entry.data, seed: mix(entry.data.seed, CHANGED) } : entry.data)
      cache.set(entry.id, parts)
    }
    return parts
  }

  /**
   * A file's content; `changed` is what it looks like once "changed" (`Reply.changedContent`): the same export
   * regenerated with another seed.
   */
  file(fileId: string, changed = false): Dataset.Part | undefined {
    const file = this.files.get(fileId)
    if (file === undefined) return undefined
    return this.parts(this.exportsById.get(file.exportId)!, changed)[file.part - 1]
  }

  private uniqueId(kind: "export" | "file", ...path: ReadonlyArray<number>): string {
    for (let attempt = 0; ; attempt++) {
      const id = Dataset.id(kind, this.config.seed, ...path, attempt)
      if (!this.exportsById.has(id) && !this.files.has(id)) return id
    }
  }
}
