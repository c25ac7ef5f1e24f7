import { createRequire } from "node:module"
import * as fs from "node:fs"
import { pipeline } from "node:stream/promises"
const require = createRequire(import.meta.url)
const mode = process.argv[2]
const { Emulator } = await import("@batch-export/emulator")
const { BatchExport, ExportFiles } = await import("@batch-export/node")
const { Effect, Scope, Exit } = await import("effect")
const undici = await import(require.resolve("undici", { paths: [require.resolve("@effect/platform-node/NodeHttpClient")] }))
const target = "/tmp/perf/out.bin"
const scope = Effect.runSync(Scope.make())
const emulator = await Effect.runPromise(Scope.extend(Emulator.make({ location: () => "http://127.0.0.1:18099/big.bin" }), scope))
const [exp] = await Effect.runPromise(emulator.exports)
const file = exp.files[0]
const layer = BatchExport.layer({ restApiKey: emulator.restApiKey, projectKey: emulator.projectKey, baseUrl: emulator.apiUrl })
const times = []; const cpus = []
for (let i = 0; i < Number(process.argv[3] ?? 3); i++) {
  const t0 = performance.now(); const c0 = process.cpuUsage()
  if (mode === "ours") {
    await Effect.runPromise(Effect.flatMap(ExportFiles.ExportFiles, (f) => f.downloadToFile(file.id, target)).pipe(Effect.provide(layer)))
  } else {
    const r = await undici.request(`${emulator.apiUrl}/2.10/exports/download?id=${file.id}`, { headers: { authorization: `Bearer ${emulator.restApiKey}`, "x-batch-project": emulator.projectKey } })
    await r.body.dump()
    const s = await undici.request(r.headers.location)
    await pipeline(s.body, fs.createWriteStream(target))
  }
  times.push(performance.now() - t0); const c = process.cpuUsage(c0); cpus.push((c.user + c.system) / 1000)
}
console.log(mode, times.map((t) => t.toFixed(0)).join(" "), "ms cpu", cpus.map((t) => t.toFixed(0)).join(" "), (fs.statSync(target).size / 1e6).toFixed(0), "MB", "rss", (process.memoryUsage().rss / 1e6).toFixed(0))
await Effect.runPromise(Scope.close(scope, Exit.void))
