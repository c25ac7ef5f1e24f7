import * as fs from "node:fs"
const file = fs.readdirSync(".").find((f) => f.endsWith(".cpuprofile"))
const p = JSON.parse(fs.readFileSync(file, "utf8"))
const self = new Map(); const byId = new Map(p.nodes.map((n) => [n.id, n]))
const dt = p.timeDeltas; const counts = new Map()
for (let i = 0; i < p.samples.length; i++) counts.set(p.samples[i], (counts.get(p.samples[i]) ?? 0) + (dt[i] ?? 0))
let total = 0
for (const [id, t] of counts) { const n = byId.get(id); const key = `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url.split("/").slice(-2).join("/")}:${n.callFrame.lineNumber}`; self.set(key, (self.get(key) ?? 0) + t); total += t }
console.log("total ms", (total / 1000).toFixed(0))
for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[2] ?? 30))) console.log((t / 1000).toFixed(0).padStart(6), k)
