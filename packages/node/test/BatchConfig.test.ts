import { BatchConfig } from "@batch-export/node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Either, Redacted } from "effect"

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
