import { defineConfig } from "vitest/config"
import { projects } from "./vitest.workspace.js"

export default defineConfig({
  test: {
    projects,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // the JSON report lets .ci/run print a plain "N passed, N failed" line
    reporters: ["default", ["json", { outputFile: ".tmp/vitest-report.json" }]]
  },
  ssr: { resolve: { conditions: ["@batch-export/source"] } }
})
