import { BatchConfig } from "@batch-export/node"
import { assert, describe, it } from "@effect/vitest"
import type * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
const KEY = "sk_live_ThisIsTheSecretKey42"
const PROJECT = "project_0664hxvwffvbpn278gxdyhsadddqgna6"

const fromEnv = (env: Record<string, string>) =>
  BatchConfig.config.pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.either
  )

describe("BatchConfig", () => {
  it.effect("reads the environment with documented defaults", () =>
    Effect.gen(function* () {
      const config = Either.getOrThrow(yield* fromEnv({ BATCH_REST_API_KEY: KEY, BATCH_PROJECT_KEY: PROJECT }))
      assert.strictEqual(Redacted.value(config.restApiKey), KEY)
      assert.strictEqual(config.projectKey, PROJECT)
      assert.strictEqual(config.baseUrl.href, "https://api.batch.com/")
      assert.strictEqual(config.apiVersion, "2.10")
      assert.strictEqual(config.retry.maxRetries, 5)
      assert.strictEqual(Duration.toSeconds(config.timeouts.idle), 30)
    })
  )

  it.effect("reads the optional variables", () =>
    Effect.gen(function* () {
      const config = Either.getOrThrow(
        yield* fromEnv({
          BATCH_REST_API_KEY: KEY,
          BATCH_PROJECT_KEY: PROJECT,
          BATCH_API_URL: "http://127.0.0.1:8080/",
          BATCH_API_VERSION: "2.11",
          BATCH_MAX_RETRIES: "2",
          BATCH_REQUEST_TIMEOUT: "5 seconds",
          BATCH_IDLE_TIMEOUT: "2 seconds"
        })
      )
      assert.strictEqual(config.baseUrl.href, "http://127.0.0.1:8080/")
      assert.strictEqual(config.apiVersion, "2.11")
      assert.strictEqual(config.retry.maxRetries, 2)
      assert.strictEqual(Duration.toSeconds(config.timeouts.request), 5)
    })
  )

  const failures: ReadonlyArray<[string, Record<string, string>, string]> = [
    ["missing key", { BATCH_PROJECT_KEY: PROJECT }, "BATCH_REST_API_KEY"],
    [
      "key with a newline",
      { BATCH_REST_API_KEY: `${KEY}\nX-Evil: 1`, BATCH_PROJECT_KEY: PROJECT },
      "BATCH_REST_API_KEY"
    ],
    ["missing project", { BATCH_REST_API_KEY: KEY }, "BATCH_PROJECT_KEY"],
    ["malformed project", { BATCH_REST_API_KEY: KEY, BATCH_PROJECT_KEY: "proj ect" }, "BATCH_PROJECT_KEY"],
    ["bad url", { BATCH_REST_API_KEY: KEY, BATCH_PROJECT_KEY: PROJECT, BATCH_API_URL: "ftp://x" }, "BATCH_API_URL"],
    [
      "bad version",
      { BATCH_REST_API_KEY: KEY, BATCH_PROJECT_KEY: PROJECT, BATCH_API_VERSION: "v2/../" },
      "BATCH_API_VERSION"
    ],
    [
      "bad retries",
      { BATCH_REST_API_KEY: KEY, BATCH_PROJECT_KEY: PROJECT, BATCH_MAX_RETRIES: "-1" },
      "BATCH_MAX_RETRIES"
    ]
  ]
  for (const [name, env, variable] of failures) {
    it.effect(`a ${name} fails naming ${variable}, never the value`, () =>
      Effect.gen(function* () {
        const result = yield* fromEnv(env)
        assert.isTrue(Either.isLeft(result))
        const message = String(Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : "")))
        assert.include(message, variable)
        for (const value of Object.values(env)) assert.notInclude(message, value)
      })
    )
  }

  it.effect("options are validated the same way, naming the option", () =>
    Effect.gen(function* () {
      const bad = yield* Effect.flip(BatchConfig.make({ restApiKey: "a b", projectKey: PROJECT }))
      assert.strictEqual(bad.argument, "restApiKey")
      assert.notInclude(bad.message, "a b")
      const url = yield* Effect.flip(
        BatchConfig.make({ restApiKey: KEY, projectKey: PROJECT, baseUrl: "https://user:pw@api.batch.com" })
      )
      assert.strictEqual(url.argument, "baseUrl")
      const ok = yield* BatchConfig.make({
        restApiKey: Redacted.make(KEY),
        projectKey: PROJECT,
        retry: { maxRetries: 1, baseDelay: "10 millis" }
      })
      assert.strictEqual(ok.retry.maxRetries, 1)
      const negative = yield* Effect.flip(
        BatchConfig.make({ restApiKey: KEY, projectKey: PROJECT, retry: { baseDelay: -5 } })
      )
      assert.strictEqual(negative.argument, "retry.baseDelay")
      assert.strictEqual(Duration.toMillis(ok.retry.baseDelay), 10)
      assert.notInclude(JSON.stringify(ok), KEY)
      assert.notInclude(String(ok.restApiKey), KEY)
    })
  )
})

describe("BatchConfig hardening", () => {
  const base = { BATCH_REST_API_KEY: KEY, BATCH_PROJECT_KEY: PROJECT }
  const message = (result: Either.Either<unknown, ConfigError.ConfigError>) =>
    Either.match(result, { onLeft: (e) => BatchConfig.formatConfigError(e), onRight: () => "" })

  for (const url of ["http://127.0.0.1:8080/?", "http://127.0.0.1:8080/#", "https://api.batch.com/x?a=1"]) {
    it.effect(`BATCH_API_URL ${url} (a query or fragment) is rejected`, () =>
      Effect.gen(function* () {
        const result = yield* fromEnv({ ...base, BATCH_API_URL: url })
        assert.isTrue(Either.isLeft(result))
        assert.include(message(result), "BATCH_API_URL")
        const option = yield* Effect.flip(BatchConfig.make({ restApiKey: KEY, projectKey: PROJECT, baseUrl: url }))
        assert.strictEqual(option.argument, "baseUrl")
      })
    )
  }

  it.effect("BATCH_IDLE_TIMEOUT takes plain seconds or a duration", () =>
    Effect.gen(function* () {
      for (const value of ["30", "30 seconds"]) {
        const config = Either.getOrThrow(yield* fromEnv({ ...base, BATCH_IDLE_TIMEOUT: value }))
        assert.strictEqual(Duration.toSeconds(config.timeouts.idle), 30, value)
      }
      const request = Either.getOrThrow(yield* fromEnv({ ...base, BATCH_REQUEST_TIMEOUT: "2.5" }))
      assert.strictEqual(Duration.toMillis(request.timeouts.request), 2500)
    })
  )

  it.effect("durations take units in the environment as on the command line: 500ms, 30s, 2m, 1h30m, 2 minutes", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string, number]> = [
        ["500ms", 500],
        ["30s", 30_000],
        ["2m", 120_000],
        ["2 min", 120_000],
        ["2 minutes", 120_000],
        ["1h30m", 5_400_000],
        ["1 hour 30 minutes", 5_400_000],
        ["1.5h", 5_400_000],
        ["2M", 120_000],
        ["1d", 86_400_000]
      ]
      for (const [value, millis] of cases) {
        const config = Either.getOrThrow(yield* fromEnv({ ...base, BATCH_REQUEST_TIMEOUT: value }))
        assert.strictEqual(Duration.toMillis(config.timeouts.request), millis, value)
      }
    })
  )

  it.effect("a bare number is seconds in code too: timeouts.request 1 is one second, not Effect's 1 ms", () =>
    Effect.gen(function* () {
      const config = yield* BatchConfig.make({
        restApiKey: KEY,
        projectKey: PROJECT,
        timeouts: { request: 1, idle: 0.25 },
        retry: { baseDelay: 2, maxDelay: 60, retryAfterCap: 300 }
      })
      assert.strictEqual(Duration.toMillis(config.timeouts.request), 1000)
      assert.strictEqual(Duration.toMillis(config.timeouts.idle), 250)
      assert.strictEqual(Duration.toSeconds(config.retry.baseDelay), 2)
      assert.strictEqual(Duration.toSeconds(config.retry.maxDelay), 60)
      assert.strictEqual(Duration.toSeconds(config.retry.retryAfterCap), 300)
      // a Duration is taken as it is, and text as the environment spells it
      const exact = yield* BatchConfig.make({
        restApiKey: KEY,
        projectKey: PROJECT,
        timeouts: { request: Duration.millis(1), idle: "1" }
      })
      assert.strictEqual(Duration.toMillis(exact.timeouts.request), 1)
      assert.strictEqual(Duration.toMillis(exact.timeouts.idle), 1000)
    })
  )

  it.effect("what is neither seconds, text nor a Duration is refused rather than guessed at (a bigint, NaN)", () =>
    Effect.gen(function* () {
      for (const value of [1000n, Number.NaN, -1, [1, 0]]) {
        const check = BatchConfig.checks.duration({ positive: true })(value)
        assert.isTrue(Either.isLeft(check), String(value))
      }
      const error = yield* Effect.flip(
        BatchConfig.make({ restApiKey: KEY, projectKey: PROJECT, timeouts: { request: Number.POSITIVE_INFINITY } })
      )
      assert.strictEqual(error.argument, "timeouts.request")
      assert.strictEqual(error.detail, "must be a finite duration")
    })
  )

  it.effect("sizes: digits with an optional 1024-based unit (K, M, G, KiB, MiB, GiB); KB, MB, GB refused", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string | number, number]> = [
        [1048576, 1048576],
        ["1048576", 1048576],
        ["10K", 10 * 1024],
        ["10k", 10 * 1024],
        ["10 KiB", 10 * 1024],
        ["100M", 100 * 1024 ** 2],
        ["100MiB", 100 * 1024 ** 2],
        ["4G", 4 * 1024 ** 3],
        ["4gib", 4 * 1024 ** 3],
        ["512B", 512]
      ]
      for (const [value, bytes] of cases) assert.deepStrictEqual(BatchConfig.checks.size(1)(value), Either.right(bytes))
      for (const value of ["10KB", "10 mb", "1GB"]) {
        const check = BatchConfig.checks.size(1)(value)
        assert.isTrue(Either.isLeft(check), value)
        assert.match(
          Either.getLeft(check).pipe((o) => (o._tag === "Some" ? o.value : "")),
          /^must not end in [KMG]B \(1000 or 1024\?\)/
        )
      }
      for (const value of ["1.5M", "10X", "-1K", "0x10", "1e3", "0K"]) {
        assert.isTrue(Either.isLeft(BatchConfig.checks.size(1)(value)), value)
      }
      const config = yield* BatchConfig.make({
        restApiKey: KEY,
        projectKey: PROJECT,
        limits: { jsonBody: "64K", maxDownloadBytes: "1GiB" }
      })
      assert.strictEqual(config.limits.jsonBody, 65536)
      assert.strictEqual(config.limits.maxDownloadBytes, 1024 ** 3)
    })
  )

  for (const [variable, value] of [
    ["BATCH_IDLE_TIMEOUT", "0"],
    ["BATCH_IDLE_TIMEOUT", "0s"],
    ["BATCH_IDLE_TIMEOUT", "-5"],
    ["BATCH_REQUEST_TIMEOUT", "0 seconds"],
    ["BATCH_REQUEST_TIMEOUT", "-1 seconds"]
  ] as const) {
    it.effect(`${variable}=${value} is rejected naming the variable`, () =>
      Effect.gen(function* () {
        const result = yield* fromEnv({ ...base, [variable]: value })
        assert.isTrue(Either.isLeft(result))
        assert.match(message(result), new RegExp(`^${variable} `))
      })
    )
  }

  it.effect("formatConfigError gives one line, never a doubled path", () =>
    Effect.gen(function* () {
      const missing = yield* fromEnv({ BATCH_PROJECT_KEY: PROJECT })
      assert.strictEqual(message(missing), "BATCH_REST_API_KEY is not set")
      const invalid = yield* fromEnv({ ...base, BATCH_PROJECT_KEY: "nope" })
      const line = message(invalid)
      assert.match(line, /^BATCH_PROJECT_KEY must /)
      assert.notInclude(line, "\n")
      const raw = Either.match(invalid, { onLeft: String, onRight: () => "" })
      assert.notInclude(raw, "BATCH_PROJECT_KEY.BATCH_PROJECT_KEY")
      assert.notInclude(line, "nope")
    })
  )

  it.effect("layerConfig validates overrides with the environment in one pass", () =>
    Effect.gen(function* () {
      const provider = (env: Record<string, string>) =>
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
      // a bad environment value that an override replaces is never validated
      const config = yield* BatchConfig.BatchConfig.pipe(
        Effect.provide(BatchConfig.layerConfig({ baseUrl: "http://127.0.0.1:9/" })),
        provider({ ...base, BATCH_API_URL: "ftp://nope" })
      )
      assert.strictEqual(config.baseUrl.href, "http://127.0.0.1:9/")
      // a bad override is named by its option, the environment's settings by their variable
      const error = yield* Effect.flip(
        BatchConfig.BatchConfig.pipe(
          Effect.provide(BatchConfig.layerConfig({ baseUrl: "http://h/?" })),
          provider({ ...base })
        )
      )
      assert.strictEqual(BatchConfig.formatConfigError(error), "baseUrl must not carry a query or a fragment")
    })
  )
})

describe("BatchConfig bounds and number syntax", () => {
  const base = { BATCH_REST_API_KEY: KEY, BATCH_PROJECT_KEY: PROJECT }
  const message = (result: Either.Either<unknown, ConfigError.ConfigError>) =>
    Either.match(result, { onLeft: (e) => BatchConfig.formatConfigError(e), onRight: () => "" })

  it.effect("BATCH_MAX_RETRIES goes from 0 to 100; past it the error says the bound, not the value", () =>
    Effect.gen(function* () {
      for (const value of ["0", "100"]) {
        const config = Either.getOrThrow(yield* fromEnv({ ...base, BATCH_MAX_RETRIES: value }))
        assert.strictEqual(config.retry.maxRetries, Number(value))
      }
      for (const value of ["101", "999999999999"]) {
        const result = yield* fromEnv({ ...base, BATCH_MAX_RETRIES: value })
        assert.strictEqual(message(result), "BATCH_MAX_RETRIES must be a whole number from 0 to 100, in decimal digits")
      }
      const option = yield* Effect.flip(
        BatchConfig.make({ restApiKey: KEY, projectKey: PROJECT, retry: { maxRetries: 101 } })
      )
      assert.strictEqual(option.argument, "retry.maxRetries")
      assert.include(option.detail, "from 0 to 100")
    })
  )

  it.effect("numbers are decimal digits only, as the CLI's flags read them: no hex, exponent or sign", () =>
    Effect.gen(function* () {
      for (const value of ["0x10", "1e1", "+3", "-1", "3.0", "1_0"]) {
        const result = yield* fromEnv({ ...base, BATCH_MAX_RETRIES: value })
        assert.match(message(result), /^BATCH_MAX_RETRIES must be a whole number/, value)
        assert.notInclude(message(result), value)
      }
      for (const value of ["1e3", "0x10", "+5", "5 parsecs", ".5", "5s3"]) {
        const result = yield* fromEnv({ ...base, BATCH_IDLE_TIMEOUT: value })
        assert.match(
          message(result),
          /^BATCH_IDLE_TIMEOUT must be a number of seconds \(30, 0.5\) or a duration/,
          value
        )
      }
      const padded = Either.getOrThrow(
        yield* fromEnv({ ...base, BATCH_MAX_RETRIES: " 7 ", BATCH_IDLE_TIMEOUT: "0.25" })
      )
      assert.strictEqual(padded.retry.maxRetries, 7)
      assert.strictEqual(Duration.toMillis(padded.timeouts.idle), 250)
    })
  )

  it.effect("the shared checks the CLI's flags use are the environment's: same values, same messages", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(BatchConfig.checks.maxRetries("16"), Either.right(16))
      assert.isTrue(Either.isLeft(BatchConfig.checks.maxRetries("0x10")))
      assert.isTrue(Either.isLeft(BatchConfig.checks.duration({ positive: true })("1e3")))
      assert.deepStrictEqual(
        BatchConfig.checks.pollInterval("0.5"),
        Either.left("must be at least 1s: Batch rate-limits its API")
      )
      assert.isTrue(Either.isRight(BatchConfig.checks.pollInterval("1")))
    })
  )

  it.effect("limits.maxDownloadBytes: 4 GiB by default, a whole number of bytes of at least 1", () =>
    Effect.gen(function* () {
      const config = yield* BatchConfig.make({ restApiKey: KEY, projectKey: PROJECT })
      assert.strictEqual(config.limits.maxDownloadBytes, 4 * 1024 ** 3)
      assert.strictEqual(BatchConfig.defaults.limits.maxDownloadBytes, 4 * 1024 ** 3)
      const set = yield* BatchConfig.make({ restApiKey: KEY, projectKey: PROJECT, limits: { maxDownloadBytes: 10 } })
      assert.strictEqual(set.limits.maxDownloadBytes, 10)
      for (const bad of [0, 1.5, -1]) {
        const error = yield* Effect.flip(
          BatchConfig.make({ restApiKey: KEY, projectKey: PROJECT, limits: { maxDownloadBytes: bad } })
        )
        assert.strictEqual(error.argument, "limits.maxDownloadBytes")
      }
    })
  )
})
