/**
 * The sink's behaviour, written once and run against each database (`Sink.sqlite.test.ts`, `Sink.pg.test.ts`):
 * every test gets a fresh, empty database from the `Backend`.
 */
import { Records } from "@batch-export/core"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, type Vitest } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as Sink from "../src/Sink.js"
import { Backend, type Fresh } from "./support/backend.js"
import { collectGarbage } from "./support/gc.js"

/** Runs `program` against the sink (migrated) over `fresh`'s first client. */
export const withSink = <A, E>(fresh: Fresh, program: Effect.Effect<A, E, Sink.Sink | SqlClient.SqlClient>) =>
  program.pipe(Effect.provide(Layer.provideMerge(Sink.layer, fresh.client)))

export const profile = (i: number, version = "v1") => ({
  identifiers: { custom_id: `user-${i}`, installation_ids: [`inst-${i}-b`, `inst-${i}-a`] },
  attributes: { $language: "fr", plan: version, n: i }
})

const event = (i: number) => ({
  identifiers: { custom_id: `user-${i % 7}` },
  name: i % 2 === 0 ? "purchase" : "open",
  timestamp: `2026-12-0${1 + (i % 5)}T10:00:00Z`,
  attributes: { amount: i }
})

export const profiles = (from: number, to: number, version = "v1") =>
  Stream.range(from, to).pipe(Stream.map((i) => profile(i, version)))

/** COUNT(*) of `table` for a project (and an export). */
export const count = (table: string, project: string, exportId?: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ readonly n: unknown }>`SELECT COUNT(*) AS n FROM ${sql(table)}
      WHERE project = ${project} ${exportId === undefined ? sql`` : sql`AND export_id = ${exportId}`}`
    return Number(rows[0]?.n)
  }).pipe(Effect.orDie)

const rename = (from: string, to: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql`ALTER TABLE ${sql(from)} RENAME TO ${sql(to)}`).pipe(Effect.orDie)

/** Runs `effect` while `table` is renamed away (it can be neither read nor written), then puts it back. */
const whileAway = <A, E, R>(table: string, effect: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    rename(table, `${table}_away`),
    () => effect,
    () => rename(`${table}_away`, table)
  )

export const attributesOf = (project: string, exportId: string, part: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ readonly attributes: unknown }>`SELECT attributes FROM batch_profiles_staging
      WHERE project = ${project} AND export_id = ${exportId} AND part = ${part} ORDER BY line`
    // jsonb comes back parsed from Postgres, as text from SQLite
    return rows.map((row) => (typeof row.attributes === "string" ? JSON.parse(row.attributes) : row.attributes))
  }).pipe(Effect.orDie)

export const load = <E>(project: string, exportId: string, part: number, records: Stream.Stream<unknown, E>) =>
  Effect.flatMap(Sink.Sink, (sink) => sink.loadPart({ project, exportId, part, type: "ATTRIBUTES" }, records))

/** Loads events `from` to `to` as an EVENTS part of project "p". */
export const loadEvents = (exportId: string, part: number, from: number, to: number) =>
  Effect.flatMap(Sink.Sink, (sink) =>
    sink.loadPart({ project: "p", exportId, part, type: "EVENTS" }, Stream.range(from, to).pipe(Stream.map(event)))
  )

/** Publishes an export as the snapshot of project "p"'s definition "all". */
export const publish = (exportId: string, parts: number) =>
  Effect.flatMap(Sink.Sink, (sink) => sink.publishSnapshot({ project: "p", definition: "all", exportId, parts }))

/** Publishes an EVENTS export as the window of project "p"'s definition "events" that ends at `windowEnd`. */
export const publishWindow = (exportId: string, parts: number, windowEnd: string) =>
  Effect.flatMap(Sink.Sink, (sink) =>
    sink.publishWindow({
      project: "p",
      definition: "events",
      type: "EVENTS",
      exportId,
      parts,
      windowEnd: new Date(windowEnd)
    })
  )

/** Runs `program` against the sink (migrated) over a fresh, empty database. */
export const onFreshSink = <A, E>(program: Effect.Effect<A, E, Sink.Sink | SqlClient.SqlClient>) =>
  Effect.flatMap(Backend, (backend) => Effect.flatMap(backend.fresh, (fresh) => withSink(fresh, program)))

export const sinkSuite = (it: Vitest.MethodsNonLive<Backend, true>) => {
  it.effect("migrations are idempotent: a second run applies nothing and the tables stay", () =>
    Effect.gen(function* () {
      const fresh = yield* (yield* Backend).fresh
      const first = yield* Effect.provide(Sink.migrate, fresh.client)
      assert.deepStrictEqual(first, [
        [1, "initial"],
        [2, "create_requested"]
      ])
      const second = yield* Effect.provide(Sink.migrate, fresh.client)
      assert.deepStrictEqual(second, [])
      // building the sink migrates again, and works
      const loaded = yield* withSink(fresh, load("p", "export_1", 1, profiles(1, 3)))
      assert.deepStrictEqual(loaded, { records: 3, skipped: false })
    })
  )

  it.effect(
    "any text survives a load unchanged: tabs, newlines, backslashes, \\N, quotes and any Unicode in ids and values",
    () =>
      onFreshSink(
        Effect.gen(function* () {
          // COPY's text format gives a meaning to \t \n \r \\ and \N: each must arrive as written
          const text = FastCheck.array(
            FastCheck.oneof(
              FastCheck.string({ unit: "grapheme" }),
              FastCheck.constantFrom("\t", "\n", "\r", "\\", "\\N", "\\t", '"', ",", "\u2028", "\u00e9", "\\\\")
            ),
            { maxLength: 6 }
          ).map((pieces) => pieces.join(""))
          const record = FastCheck.record({ id: text, value: text, key: text })
          const samples = FastCheck.sample(FastCheck.array(record, { minLength: 1, maxLength: 40 }), {
            numRuns: 25,
            seed: 21
          })
          const sql = yield* SqlClient.SqlClient
          let exportNumber = 0
          for (const values of samples) {
            const exportId = `export_${++exportNumber}`
            const records = values.map(({ id, key, value }, i) => ({
              identifiers: { custom_id: `${i}:${id}`, installation_ids: [value] },
              attributes: { [key]: value, plain: i }
            }))
            yield* load("p", exportId, 1, Stream.fromIterable(records))
            const rows = yield* sql<{
              readonly custom_id: string
              readonly installation_ids: unknown
            }>`SELECT custom_id,
              installation_ids FROM batch_profiles_staging WHERE project = 'p' AND export_id = ${exportId} ORDER BY line`
            assert.deepStrictEqual(
              rows.map((row) => row.custom_id),
              records.map((r) => r.identifiers.custom_id)
            )
            assert.deepStrictEqual(
              rows.map((row) =>
                typeof row.installation_ids === "string" ? JSON.parse(row.installation_ids) : row.installation_ids
              ),
              records.map((r) => r.identifiers.installation_ids)
            )
            assert.deepStrictEqual(
              yield* attributesOf("p", exportId, 1),
              records.map((r) => r.attributes)
            )
          }
        })
      )
  )

  it.effect("loadPart twice for the same (export, part) stages its records once: the replay replaces", () =>
    onFreshSink(
      Effect.gen(function* () {
        yield* load("p", "export_1", 1, profiles(1, 3, "first"))
        yield* load("p", "export_1", 2, profiles(4, 5))
        const again = yield* load("p", "export_1", 1, profiles(1, 3, "replay"))
        assert.deepStrictEqual(again, { records: 3, skipped: false })
        assert.strictEqual(yield* count("batch_profiles_staging", "p", "export_1"), 5)
        const attributes = yield* attributesOf("p", "export_1", 1)
        assert.deepStrictEqual(
          attributes.map((a) => a.plan),
          ["replay", "replay", "replay"]
        )
      })
    )
  )

  it.effect(
    "a record that does not decode mid-part fails typed with part and line, and nothing of the part is staged",
    () =>
      onFreshSink(
        Effect.gen(function* () {
          // an earlier, complete load of part 2
          yield* load("p", "export_1", 2, profiles(1, 5))
          // its replay: 1,200 lines, line 700 broken, so batches of 500 were inserted before the failure
          const lines = Array.from({ length: 1200 }, (_, i) =>
            i === 699 ? "{broken" : JSON.stringify(profile(i + 1, "replay"))
          )
          const bytes = Stream.make(new TextEncoder().encode(lines.join("\n") + "\n"))
          const failed = yield* Effect.either(load("p", "export_1", 2, Records.decode(bytes, { part: 2 })))
          assert.isTrue(Either.isLeft(failed))
          if (Either.isLeft(failed)) {
            assert.strictEqual(failed.left._tag, "RecordDecodeError")
            assert.include(failed.left.message, "part 2, line 700")
          }
          // the earlier load is intact: the replay's delete and its 500+ rows were rolled back together
          assert.strictEqual(yield* count("batch_profiles_staging", "p", "export_1"), 5)
          assert.deepStrictEqual(
            (yield* attributesOf("p", "export_1", 2)).map((a) => a.plan),
            ["v1", "v1", "v1", "v1", "v1"]
          )

          // a value the sink cannot store as a profile, at the 600th record of part 3
          const values = Stream.range(1, 1000).pipe(Stream.map((i): unknown => (i === 600 ? 42 : profile(i))))
          const rejected = yield* Effect.either(load("p", "export_1", 3, values))
          assert.isTrue(Either.isLeft(rejected))
          if (Either.isLeft(rejected) && rejected.left._tag === "RecordDecodeError") {
            assert.strictEqual(rejected.left.part, 3)
            assert.strictEqual(rejected.left.line, 600)
          } else assert.fail("expected a RecordDecodeError")
          assert.strictEqual(yield* count("batch_profiles_staging", "p", "export_1"), 5)
          assert.strictEqual(yield* count("batch_parts", "p", "export_1"), 1)
        })
      )
  )

  it.effect(
    "U+0000, which Postgres cannot store, is kept as U+FFFD instead of failing the part (both databases alike)",
    () =>
      onFreshSink(
        Effect.gen(function* () {
          const sink = yield* Sink.Sink
          yield* load(
            "p",
            "export_1",
            1,
            Stream.make({
              identifiers: { custom_id: "a\u0000b", installation_ids: ["i\u0000"] },
              attributes: { "k\u0000": "v\u0000w", "back\\u0000slash": "\\u0000" }
            })
          )
          yield* sink.loadPart(
            { project: "p", exportId: "export_2", part: 1, type: "EVENTS" },
            Stream.make({ identifiers: { custom_id: "e\u0000" }, name: "n\u0000", data: ["\u0000"] })
          )
          const sql = yield* SqlClient.SqlClient
          const [row] = yield* sql<{ readonly custom_id: string; readonly profile_key: string }>`SELECT custom_id,
            profile_key FROM batch_profiles_staging WHERE project = 'p'`
          assert.strictEqual(row?.custom_id, "a\uFFFDb")
          assert.strictEqual(row?.profile_key, "custom_id:a\uFFFDb")
          // a backslash followed by "u0000" is text, not U+0000: kept as it is
          assert.deepStrictEqual(yield* attributesOf("p", "export_1", 1), [
            { "k\uFFFD": "v\uFFFDw", "back\\u0000slash": "\\u0000" }
          ])
          const [event] = yield* sql<{ readonly custom_id: string; readonly name: string; readonly record: unknown }>`
            SELECT custom_id, name, record FROM batch_events_staging WHERE project = 'p'`
          assert.strictEqual(event?.custom_id, "e\uFFFD")
          assert.strictEqual(event?.name, "n\uFFFD")
          const record: unknown = typeof event?.record === "string" ? JSON.parse(event.record) : event?.record
          assert.deepStrictEqual(record, { identifiers: { custom_id: "e\uFFFD" }, name: "n\uFFFD", data: ["\uFFFD"] })
        })
      )
  )

  it.effect("publishSnapshot replaces the (project, definition) snapshot and keeps each profile once", () =>
    onFreshSink(
      Effect.gen(function* () {
        const sink = yield* Sink.Sink
        yield* load("p", "export_a", 1, profiles(1, 3))
        yield* load("p", "export_a", 2, profiles(4, 6))
        const a = yield* publish("export_a", 2)
        assert.deepStrictEqual(a, { records: 6, replayed: false })
        // another definition of the same project keeps its own snapshot
        yield* load("p", "export_s", 1, profiles(100, 101))
        yield* sink.publishSnapshot({ project: "p", definition: "segment", exportId: "export_s", parts: 1 })

        // the next snapshot: user-2 listed twice (the last one wins), a profile with installations only,
        // and one with no identifiers at all
        const next: Array<unknown> = [
          profile(1, "v2"),
          profile(2, "v2"),
          { identifiers: { installation_ids: ["z", "y"] }, attributes: { plan: "anonymous" } },
          { attributes: { plan: "nobody" } },
          profile(2, "v2-last")
        ]
        yield* load("p", "export_b", 1, Stream.fromIterable(next))
        const b = yield* publish("export_b", 1)
        assert.deepStrictEqual(b, { records: 4, replayed: false })

        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql<{
          readonly profile_key: string
          readonly custom_id: string | null
          readonly export_id: string
        }>`SELECT profile_key, custom_id, export_id FROM batch_profiles
            WHERE project = 'p' AND definition = 'all' ORDER BY profile_key`
        assert.deepStrictEqual(
          rows.map((row) => [row.profile_key, row.custom_id, row.export_id]),
          [
            ["custom_id:user-1", "user-1", "export_b"],
            ["custom_id:user-2", "user-2", "export_b"],
            ["installation_id:y", null, "export_b"],
            ["record:export_b:1:4", null, "export_b"]
          ]
        )
        const last = yield* sql<{ readonly line: unknown }>`SELECT line FROM batch_profiles
            WHERE project = 'p' AND definition = 'all' AND custom_id = 'user-2'`
        assert.strictEqual(Number(last[0]?.line), 5)
        assert.strictEqual(yield* count("batch_profiles", "p", "export_s"), 2)
        assert.strictEqual(yield* count("batch_profiles_staging", "p"), 0)
      })
    )
  )

  it.effect("publishSnapshot refuses an export whose parts are not all loaded, and changes nothing", () =>
    onFreshSink(
      Effect.gen(function* () {
        yield* load("p", "export_a", 1, profiles(1, 3))
        yield* publish("export_a", 1)
        yield* load("p", "export_b", 1, profiles(1, 10))
        const refused = yield* Effect.flip(publish("export_b", 3))
        assert.strictEqual(refused._tag, "PartsNotLoaded")
        if (refused._tag === "PartsNotLoaded") assert.deepStrictEqual(refused.missing, [2, 3])
        assert.strictEqual(yield* count("batch_profiles", "p"), 3)
        // an EVENTS part does not count as an ATTRIBUTES one
        yield* loadEvents("export_b", 2, 1, 1)
        const still = yield* Effect.flip(publish("export_b", 2))
        assert.strictEqual(still._tag, "PartsNotLoaded")
      })
    )
  )

  it.effect("a replayed publish or load of a published export changes nothing and does not run the stream", () =>
    onFreshSink(
      Effect.gen(function* () {
        yield* load("p", "export_a", 1, profiles(1, 4))
        assert.deepStrictEqual(yield* publish("export_a", 1), { records: 4, replayed: false })
        assert.deepStrictEqual(yield* publish("export_a", 1), { records: 4, replayed: true })
        assert.strictEqual(yield* count("batch_profiles", "p"), 4)

        const ran = yield* Ref.make(false)
        const watched = Stream.fromEffect(Ref.set(ran, true)).pipe(Stream.zipRight(profiles(1, 2)))
        const again = yield* load("p", "export_a", 1, watched)
        assert.deepStrictEqual(again, { records: 4, skipped: true })
        assert.isFalse(yield* Ref.get(ran))
        assert.strictEqual(yield* count("batch_profiles_staging", "p"), 0)
      })
    )
  )

  it.effect("discard forgets an unpublished export's staged rows and parts, and leaves a published one alone", () =>
    onFreshSink(
      Effect.gen(function* () {
        const sink = yield* Sink.Sink
        yield* load("p", "export_a", 1, profiles(1, 3))
        yield* publish("export_a", 1)
        yield* load("p", "export_b", 1, profiles(1, 4))
        yield* load("p", "export_b", 2, profiles(5, 6))
        yield* loadEvents("export_e", 1, 1, 1)
        assert.strictEqual(yield* sink.discard("p", "export_b"), 6)
        assert.strictEqual(yield* count("batch_profiles_staging", "p", "export_b"), 0)
        assert.strictEqual(yield* count("batch_parts", "p", "export_b"), 0)
        // another export's staging is untouched, and so is the published one
        assert.strictEqual(yield* count("batch_events_staging", "p", "export_e"), 1)
        assert.strictEqual(yield* sink.discard("p", "export_a"), 0)
        assert.strictEqual(yield* count("batch_profiles", "p", "export_a"), 3)
        assert.strictEqual(yield* count("batch_parts", "p", "export_a"), 1)
        const refused = yield* Effect.flip(publish("export_b", 2))
        assert.strictEqual(refused._tag, "PartsNotLoaded")
      })
    )
  )

  it.effect("a publish that fails midway leaves the previous snapshot whole", () =>
    onFreshSink(
      Effect.gen(function* () {
        yield* load("p", "export_a", 1, profiles(1, 3))
        yield* publish("export_a", 1)
        yield* load("p", "export_b", 1, profiles(1, 8, "v2"))
        // the publish fails after it deleted the published profiles: the insert from staging cannot read it
        const failed = yield* whileAway("batch_profiles_staging", Effect.flip(publish("export_b", 1)))
        assert.strictEqual(failed._tag, "SinkError")
        assert.strictEqual(yield* count("batch_profiles", "p"), 3)
        assert.strictEqual(yield* count("batch_profiles", "p", "export_a"), 3)
        assert.strictEqual(yield* count("batch_profiles_staging", "p", "export_b"), 8)
        // and it can be published once the database is well again
        const published = yield* publish("export_b", 1)
        assert.deepStrictEqual(published, { records: 8, replayed: false })
      })
    )
  )

  it.effect("publishWindow appends the rows and saves the cursor in one transaction; the cursor never moves back", () =>
    onFreshSink(
      Effect.gen(function* () {
        const sink = yield* Sink.Sink
        const cursor = Effect.map(
          sink.cursor("p", "events"),
          Option.map((c) => [c.windowEnd.toISOString(), c.exportId])
        )
        assert.isTrue(Option.isNone(yield* cursor))

        yield* loadEvents("export_1", 1, 1, 10)
        yield* loadEvents("export_1", 2, 11, 15)
        assert.deepStrictEqual(yield* publishWindow("export_1", 2, "2026-12-02T00:00:00Z"), {
          records: 15,
          replayed: false
        })
        assert.deepStrictEqual(yield* cursor, Option.some(["2026-12-02T00:00:00.000Z", "export_1"]))

        // the cursor cannot be written: the rows are not appended either
        yield* loadEvents("export_2", 1, 1, 20)
        const noCursor = yield* whileAway(
          "batch_cursors",
          Effect.flip(publishWindow("export_2", 1, "2026-12-03T00:00:00Z"))
        )
        assert.strictEqual(noCursor._tag, "SinkError")
        assert.strictEqual(yield* count("batch_events", "p", "export_2"), 0)
        // the rows cannot be appended: the cursor does not move
        const noRows = yield* whileAway(
          "batch_events",
          Effect.flip(publishWindow("export_2", 1, "2026-12-03T00:00:00Z"))
        )
        assert.strictEqual(noRows._tag, "SinkError")
        assert.deepStrictEqual(yield* cursor, Option.some(["2026-12-02T00:00:00.000Z", "export_1"]))

        assert.deepStrictEqual(yield* publishWindow("export_2", 1, "2026-12-03T00:00:00Z"), {
          records: 20,
          replayed: false
        })
        assert.deepStrictEqual(yield* publishWindow("export_2", 1, "2026-12-03T00:00:00Z"), {
          records: 20,
          replayed: true
        })
        assert.strictEqual(yield* count("batch_events", "p"), 35)
        // an older window published late appends its rows and leaves the cursor where it is
        yield* loadEvents("export_0", 1, 1, 3)
        yield* publishWindow("export_0", 1, "2026-11-30T00:00:00Z")
        assert.deepStrictEqual(yield* cursor, Option.some(["2026-12-03T00:00:00.000Z", "export_2"]))
        assert.strictEqual(yield* count("batch_events", "p"), 38)

        const sql = yield* SqlClient.SqlClient
        const extracted = yield* sql<{
          readonly custom_id: string
          readonly name: string
          readonly event_time: string
        }>`SELECT custom_id, name, event_time FROM batch_events WHERE export_id = 'export_1' AND part = 1 AND line = 2`
        assert.deepStrictEqual(
          extracted.map((row) => [row.custom_id, row.name, row.event_time]),
          [["user-2", "purchase", "2026-12-03T10:00:00Z"]]
        )

        // reachability: the same path, its own table and fields
        yield* sink.loadPart(
          { project: "p", exportId: "export_r", part: 1, type: "REACHABILITY" },
          Stream.make({
            identifiers: { custom_id: "user-1" },
            channel: "email",
            status: "unsubscribed",
            timestamp: "2026-12-01T00:00:00Z"
          })
        )
        yield* sink.publishWindow({
          project: "p",
          definition: "optins",
          type: "REACHABILITY",
          exportId: "export_r",
          parts: 1,
          windowEnd: new Date("2026-12-02T00:00:00Z")
        })
        const reach = yield* sql<{ readonly channel: string; readonly status: string }>`SELECT channel, status
            FROM batch_reachability WHERE project = 'p'`
        assert.deepStrictEqual(
          reach.map((row) => [row.channel, row.status]),
          [["email", "unsubscribed"]]
        )
      })
    )
  )

  it.effect("beginCreate marks the run's create once and tells a later attempt when it started and the export", () =>
    onFreshSink(
      Effect.gen(function* () {
        const sink = yield* Sink.Sink
        const missing = yield* Effect.flip(sink.beginCreate("run-0"))
        assert.strictEqual(missing.operation, "beginCreate")
        yield* sink.recordRun({
          runId: "run-1",
          project: "p",
          definition: "all",
          type: "ATTRIBUTES",
          startedAt: new Date("2026-12-07T01:00:00Z")
        })
        const first = yield* sink.beginCreate("run-1")
        assert.deepStrictEqual(first, { requestedAt: Option.none(), exportId: Option.none() })
        const second = yield* sink.beginCreate("run-1")
        assert.isTrue(Option.isSome(second.requestedAt))
        assert.deepStrictEqual(second.exportId, Option.none())
        yield* sink.recordExport("run-1", "export_1")
        const third = yield* sink.beginCreate("run-1")
        // the first attempt's start is kept
        assert.deepStrictEqual(third.requestedAt, second.requestedAt)
        assert.deepStrictEqual(third.exportId, Option.some("export_1"))
      })
    )
  )

  it.effect("loadedPart: nothing before a load completes, its count after", () =>
    onFreshSink(
      Effect.gen(function* () {
        const sink = yield* Sink.Sink
        const part = { project: "p", exportId: "export_1", part: 1 }
        assert.deepStrictEqual(yield* sink.loadedPart(part), Option.none())
        yield* Effect.either(load("p", "export_1", 1, Stream.concat(profiles(1, 3), Stream.fail("cut"))))
        assert.deepStrictEqual(yield* sink.loadedPart(part), Option.none())
        yield* load("p", "export_1", 1, profiles(1, 3))
        assert.deepStrictEqual(yield* sink.loadedPart(part), Option.some(3))
      })
    )
  )

  it.effect("runs: a start recorded twice is one row, the end is stored sanitized, newest first", () =>
    onFreshSink(
      Effect.gen(function* () {
        const sink = yield* Sink.Sink
        const start = (runId: string, project: string, startedAt: string): Sink.RunStart => ({
          runId,
          project,
          definition: "all",
          type: "EVENTS",
          startedAt: new Date(startedAt),
          windowFrom: new Date("2026-11-01T00:00:00Z"),
          windowTo: new Date("2026-12-01T00:00:00Z")
        })
        yield* sink.recordRun(start("run-1", "p", "2026-12-07T01:00:00Z"))
        yield* sink.recordRun(start("run-2", "p", "2026-12-07T02:00:00Z"))
        yield* sink.recordRun(start("run-3", "q", "2026-12-07T03:00:00Z"))
        yield* sink.finishRun("run-1", {
          outcome: "success",
          finishedAt: new Date("2026-12-07T01:30:00Z"),
          exportId: "export_1",
          parts: 2,
          records: 1234,
          bytes: 5_000_000_000
        })
        // a replayed start does not reset the finished run
        yield* sink.recordRun(start("run-1", "p", "2026-12-07T01:00:00Z"))
        yield* sink.finishRun("run-2", {
          outcome: "failure",
          finishedAt: new Date("2026-12-07T02:30:00Z"),
          parts: 0,
          records: 0,
          bytes: 0,
          error: {
            tag: "SinkError",
            message: "connect to postgres://sync:hunter2@db.example:5432/batch failed\n\u001b[31mnow\u001b[0m"
          }
        })
        const runs = yield* sink.runs({ project: "p" })
        assert.deepStrictEqual(
          runs.map((run) => [run.runId, run.outcome]),
          [
            ["run-2", "failure"],
            ["run-1", "success"]
          ]
        )
        const [failed, done] = runs
        assert.deepStrictEqual(done?.exportId, Option.some("export_1"))
        assert.strictEqual(done?.bytes, 5_000_000_000)
        assert.strictEqual(done?.records, 1234)
        assert.deepStrictEqual(
          Option.map(done?.finishedAt ?? Option.none(), (d) => d.toISOString()),
          Option.some("2026-12-07T01:30:00.000Z")
        )
        assert.deepStrictEqual(
          Option.map(done?.windowFrom ?? Option.none(), (d) => d.toISOString()),
          Option.some("2026-11-01T00:00:00.000Z")
        )
        const message = Option.getOrElse(failed?.errorMessage ?? Option.none(), () => "")
        assert.notInclude(message, "hunter2")
        assert.notInclude(message, "\u001b")
        assert.include(message, "connect to")
        assert.deepStrictEqual(failed?.errorTag, Option.some("SinkError"))
        assert.strictEqual((yield* sink.runs()).length, 3)
        assert.deepStrictEqual(
          (yield* sink.runs({ limit: 1 })).map((run) => run.runId),
          ["run-3"]
        )
      })
    )
  )

  it.effect(
    "memory stays bounded: a part of 200,000 records loads with heap growth far below its size",
    () =>
      Effect.gen(function* () {
        const gc = collectGarbage()
        const total = 200_000
        const padding = "x".repeat(600)
        let bytes = 0
        let peak = 0
        const records = Stream.range(1, total).pipe(
          Stream.map((i): unknown => {
            // parsed from JSON text, as a download gives them: each record owns flat strings (a template
            // literal would share the padding and make the records look small)
            const line = `{"identifiers":{"custom_id":"user-${i}","installation_ids":["inst-${i}"]},"attributes":{"bio":"${i}${padding}","n":${i}}}`
            bytes += line.length
            return JSON.parse(line)
          })
        )
        yield* onFreshSink(
          Effect.gen(function* () {
            gc()
            const before = process.memoryUsage().heapUsed
            peak = before
            // what the load retains, sampled every ~16k records after a full collection (garbage not yet
            // collected says nothing about the bound)
            let chunks = 0
            const sampled = records.pipe(
              Stream.mapChunks((chunk) => {
                if (++chunks % 4 === 0) {
                  gc()
                  peak = Math.max(peak, process.memoryUsage().heapUsed)
                }
                return chunk
              })
            )
            const loaded = yield* load("p", "export_big", 1, sampled)
            assert.strictEqual(loaded.records, total)
            const growth = peak - before
            // about 130 MB of records went through (as JSON); held in memory, they would take more than that
            assert.isAbove(bytes, 120_000_000)
            assert.isBelow(
              growth,
              bytes / 4,
              `heap grew by ${Math.round(growth / 1e6)} MB for ${Math.round(bytes / 1e6)} MB`
            )
            assert.strictEqual(yield* count("batch_profiles_staging", "p", "export_big"), total)
          })
        )
      }),
    300_000
  )
}
