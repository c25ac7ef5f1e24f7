import { createRequire } from "node:module"
const require = createRequire(import.meta.url)
const mode = process.argv[2]
const { Emulator } = await import("@batch-export/emulator")
const { BatchExport, ExportsClient } = await import("@batch-export/node")
const { Effect, Scope, Exit, Stream } = await import("effect")
const undici = await import(require.resolve("undici", { paths: [require.resolve("@effect/platform-node/NodeHttpClient")] }))
const scope = Effect.runSync(Scope.make())
const emulator = await Effect.runPromise(Scope.extend(Emulator.make({ location: () => "http://127.0.0.1:18099/big.bin" }), scope))
const [exp] = await Effect.runPromise(emulator.exports)
const file = exp.files[0]
const layer = BatchExport.layer({ restApiKey: emulator.restApiKey, projectKey: emulator.projectKey, baseUrl: emulator.apiUrl })
for (let i = 0; i < Number(process.argv[3] ?? 3); i++) {
  const t0 = performance.now()
  let chunks = 0, elems = 0, bytes = 0
  if (mode === "ours") {
    await Effect.runPromise(Effect.flatMap(ExportsClient.ExportsClient, (c) => Stream.runForEachChunk(c.download(file.id), (ch) => Effect.sync(() => { chunks++; for (const e of ch) { elems++; bytes += e.length } }))).pipe(Effect.provide(layer)))
  } else {
    const s = await undici.request("http://127.0.0.1:18099/big.bin")
    for await (const b of s.body) { elems++; bytes += b.length }
  }
  const cu = process.cpuUsage(); console.log(mode, (performance.now() - t0).toFixed(0), "ms", "cpu", ((cu.user + cu.system) / 1000).toFixed(0), { chunks, elems, bytes })
}
await Effect.runPromise(Scope.close(scope, Exit.void))
