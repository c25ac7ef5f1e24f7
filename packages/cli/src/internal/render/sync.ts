/**
 * What `batch-export sync` and `sync status` print: the progress line of an execution, the outcome of each
 * execution (a table, or one JSON document a line), and the run table.
 *
 * @internal
 * @since 0.1.0
 */
import type { Sink, Sync } from "@batch-export/sync"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { shown } from "../output.js"
import { columns } from "./columns.js"

/**
 * Where an execution is, as the progress display shows it.
 *
 * @internal
 * @since 0.1.0
 * @category models
 */
export interface Progress {
  readonly label: string
  readonly step: string
  readonly parts: number
  readonly rows: number
}

/**
 * The progress after one event of its execution.
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const advance = (progress: Progress, event: Sync.Event): Progress => {
  switch (event._tag) {
    case "Started":
      return { ...progress, step: "starting" }
    case "Creating":
      return { ...progress, step: "creating the export" }
    case "Created":
      return { ...progress, step: `waiting for ${event.exportId}` }
    case "Loading":
      return { ...progress, step: `loading part ${event.part}` }
    case "Loaded":
      return {
        ...progress,
        step: `loaded part ${event.part}`,
        parts: progress.parts + 1,
        rows: progress.rows + event.records
      }
    case "Publishing":
      return { ...progress, step: "publishing" }
    case "Finished":
      return { ...progress, step: event.outcome === "success" ? "done" : "failed" }
  }
}

/** `text` cut to `width` characters, an ellipsis marking the cut. */
const fit = (text: string, width: number): string => (text.length <= width ? text : `${text.slice(0, width - 1)}…`)

/**
 * One line of the progress display: counts first (they keep their place), then the label and the step; cut to
 * `width`.
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const progressLine = (progress: Progress, width: number = Number.MAX_SAFE_INTEGER): string =>
  fit(
    `${String(progress.parts).padStart(3)} parts ${String(progress.rows).padStart(9)} rows  ${progress.label}: ${progress.step}`,
    width
  )

/**
 * The label of an execution: `project/definition`.
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const labelOf = (payload: { readonly project: string; readonly definition: string }): string =>
  `${payload.project}/${payload.definition}`

/** `2026-12-07T02:00:00.000Z` as `2026-12-07 02:00` (UTC, to the minute: fits the table). */
const minute = (iso: string): string => iso.slice(0, 16).replace("T", " ")

/** Cut to 12 characters: a name column of the 80-column tables. */
const name = (text: string): string => fit(shown(text), 12)

/**
 * The outcomes of a `sync` as a table: project, definition, slot, result, parts, rows (a failure shows its
 * tag and message in the last column).
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const outcomesTable = (outcomes: ReadonlyArray<Sync.Outcome>): ReadonlyArray<string> =>
  columns([
    ["PROJECT", "EXPORT", "SLOT (UTC)", "RESULT", "PARTS", "ROWS"],
    ...outcomes.map((outcome) =>
      Either.match(outcome.result, {
        onRight: (result) => [
          name(outcome.project),
          name(outcome.definition),
          minute(outcome.slot),
          "ok",
          String(result.parts),
          String(result.records)
        ],
        onLeft: (error) => [
          name(outcome.project),
          name(outcome.definition),
          minute(outcome.slot),
          "failed",
          "-",
          shown(`${error.tag}: ${error.message}`)
        ]
      })
    )
  ])

/**
 * One outcome as printed with `--json` (one document a line).
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const outcomeJson = (outcome: Sync.Outcome) => ({
  project: outcome.project,
  definition: outcome.definition,
  slot: outcome.slot,
  executionId: outcome.executionId,
  ...Either.match(outcome.result, {
    onRight: (result) => ({ outcome: "success" as const, ...result }),
    onLeft: (error) => ({ outcome: "failure" as const, error: error.tag, message: error.message })
  })
})

/**
 * The run table of `sync status` (fits 80 columns): project, definition, outcome, start (UTC), parts, rows. The
 * outcome is `ok`, `running` (in flight, or stopped and waiting for the next start to resume it) or the
 * failure's tag.
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const runsTable = (runs: ReadonlyArray<Sink.Run>): ReadonlyArray<string> =>
  columns([
    ["PROJECT", "EXPORT", "OUTCOME", "STARTED (UTC)", "PARTS", "ROWS"],
    ...runs.map((run) => [
      name(run.project),
      name(run.definition),
      run.outcome === "success"
        ? "ok"
        : run.outcome === "running"
          ? "running"
          : name(Option.getOrElse(run.errorTag, () => "failed")),
      minute(run.startedAt.toISOString()),
      String(run.parts),
      String(run.records)
    ])
  ])

/**
 * One run as printed by `sync status --json`.
 *
 * @internal
 * @since 0.1.0
 * @category rendering
 */
export const runJson = (run: Sink.Run) => ({
  runId: run.runId,
  project: run.project,
  definition: run.definition,
  type: run.type,
  outcome: run.outcome,
  exportId: Option.getOrNull(run.exportId),
  windowFrom: Option.getOrNull(Option.map(run.windowFrom, (date) => date.toISOString())),
  windowTo: Option.getOrNull(Option.map(run.windowTo, (date) => date.toISOString())),
  parts: run.parts,
  records: run.records,
  bytes: run.bytes,
  startedAt: run.startedAt.toISOString(),
  finishedAt: Option.getOrNull(Option.map(run.finishedAt, (date) => date.toISOString())),
  error: Option.getOrNull(run.errorTag),
  message: Option.getOrNull(run.errorMessage)
})
