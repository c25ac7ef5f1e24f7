// Removes every build output, so a release is built from the sources alone (tsc -b never deletes the
// output of a source file that was removed, and `files` would publish it).
import { rmSync } from "node:fs"

for (const dir of ["packages/core", "packages/node", "packages/emulator", "packages/cli", "examples"]) {
  rmSync(`${dir}/dist`, { recursive: true, force: true })
}
