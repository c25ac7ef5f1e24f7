import type { TestProjectConfiguration } from "vitest/config"

const project = (name: string, root: string): TestProjectConfiguration => ({
  extends: true,
  test: { name, root, include: ["test/**/*.test.ts"] }
})

export const projects: Array<TestProjectConfiguration> = [
  project("core", "packages/core"),
  project("emulator", "packages/emulator"),
  project("node", "packages/node"),
  project("cli", "packages/cli"),
  project("sync", "packages/sync"),
  project("examples", "examples"),
  project("packaging", "packaging")
]
