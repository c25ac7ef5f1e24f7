import * as V8 from "node:v8"
import * as Vm from "node:vm"

/** V8's collector, reachable once `--expose-gc` is set (a context made after that sees it). */
export const collectGarbage = (): (() => void) => {
  V8.setFlagsFromString("--expose-gc")
  const gc: unknown = Vm.runInNewContext("gc")
  if (typeof gc !== "function") throw new Error("no gc")
  return () => gc()
}
