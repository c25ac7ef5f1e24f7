import { defineConfig } from "vitest/config"
import { projects } from "./vitest.workspace.js"

export default defineConfig({
  test: { projects, testTimeout: 60_000, hookTimeout: 60_000 },
  ssr: { resolve: { conditions: ["@batch-export/source"] } }
})
