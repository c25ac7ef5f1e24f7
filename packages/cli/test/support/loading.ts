import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import { execFile } from "node:child_process"
import * as Path from "node:path"
import { pathToFileURL } from "node:url"

/** A module-resolution hook that appends every module the process resolves to the file named in its env. */
const hooks = `import { appendFileSync } from "node:fs"
export const resolve = async (specifier, context, next) => {
  const resolved = await next(specifier, context)
  appendFileSync(process.env.BATCH_EXPORT_TEST_LOADED, resolved.url + "\\n")
  return resolved
}
`

/** Runs the executable `bin` with `args` and returns its exit code and the URLs of the modules it loaded. */
export const loading = (bin: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped()
    const hooksFile = Path.join(dir, "hooks.mjs")
    const registerFile = Path.join(dir, "register.mjs")
    const list = Path.join(dir, "loaded.txt")
    yield* fs.writeFileString(hooksFile, hooks)
    yield* fs.writeFileString(
      registerFile,
      `import { register } from "node:module"\nregister(${JSON.stringify(pathToFileURL(hooksFile).href)})\n`
    )
    yield* fs.writeFileString(list, "")
    const code = yield* Effect.async<number>((resume) => {
      const child = execFile(
        process.execPath,
        ["--import", pathToFileURL(registerFile).href, bin, ...args],
        { env: { PATH: process.env["PATH"] ?? "", BATCH_EXPORT_TEST_LOADED: list, ...env } },
        (error) => resume(Effect.succeed(error === null ? 0 : typeof error.code === "number" ? error.code : -1))
      )
      return Effect.sync(() => child.kill())
    })
    const loaded = (yield* fs.readFileString(list)).split("\n").filter((line) => line !== "")
    return { code, loaded }
  })
