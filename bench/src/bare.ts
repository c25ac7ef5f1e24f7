/**
 * The whole-process bare Node reference of benchmark 1: `node bench/dist/src/bare.js <file_id> <path>`, with the
 * API and credentials from the same variables the CLI reads (`BATCH_API_URL`, `BATCH_REST_API_KEY`,
 * `BATCH_PROJECT_KEY`). It does what the in-process reference does (ask the API for the link, follow the 307,
 * undici `request` → `pipeline` → `fs.createWriteStream`) and nothing else, so its wall time from spawn to exit is
 * what any Node program pays for the job: Node's start-up, undici's import, the transfer.
 *
 * @since 0.1.0
 */
import { downloadToFile } from "./reference.js"

const variable = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`${name} is not set`)
  return value
}

const [fileId, path] = process.argv.slice(2)
if (fileId === undefined || path === undefined) throw new Error("usage: bare.js <file_id> <path>")
await downloadToFile(
  {
    url: variable("BATCH_API_URL"),
    restApiKey: variable("BATCH_REST_API_KEY"),
    projectKey: variable("BATCH_PROJECT_KEY")
  },
  fileId,
  path
)
