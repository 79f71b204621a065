/**
 * `npm run bench`: speed figures, printed as a Markdown table (`--json` for one JSON object, `--quick`
 * for small sizes). Every time is the median and the max of several runs.
 */
import { generatePlan } from "../src/relup/generate-plan.ts";
import { syntheticPair } from "./synthetic-release.ts";

interface Figure {
  key: string;
  figure: string;
  median: number;
  max: number;
  unit: string;
  goal?: string;
  otp?: string;
}

const args = new Set(process.argv.slice(2));
const quick = args.has("--quick");
const runs = quick ? 3 : 7;

function measure(fn: () => void): { median: number; max: number } {
  const times: number[] = [];
  fn(); // warm up: the first run pays for compilation
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, max: times[times.length - 1]! };
}

const figures: Figure[] = [];
for (const modules of quick ? [100, 1_000] : [100, 1_000, 10_000]) {
  const { from, to, changed } = syntheticPair(modules, 100);
  const t = measure(() => {
    const result = generatePlan(from, to);
    if (!result.ok) throw new Error(`synthetic release did not generate: ${JSON.stringify(result.issues[0])}`);
  });
  figures.push({
    key: `generate.${modules}`,
    figure: `generate: ${modules.toLocaleString("en")} modules, 100 apps, ${changed} changed`,
    ...t,
    unit: "ms",
    ...(modules === 10_000 ? { goal: "≤ 1,000 ms" } : {}),
    ...(modules === 100 ? { otp: "make_relup, 3 modules: 22.5 ms" } : {}),
  });
}

if (args.has("--json")) {
  process.stdout.write(JSON.stringify(Object.fromEntries(figures.map((f) => [f.key, { median: f.median, max: f.max, unit: f.unit }])), null, 2) + "\n");
} else {
  const fmt = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(0));
  console.log(`relup bench (${quick ? "quick" : "full"}), Node ${process.version}, ${runs} runs each\n`);
  console.log("| figure | median | max | goal | OTP reference |");
  console.log("|---|---|---|---|---|");
  for (const f of figures) console.log(`| ${f.figure} | ${fmt(f.median)} ${f.unit} | ${fmt(f.max)} ${f.unit} | ${f.goal ?? ""} | ${f.otp ?? ""} |`);
}
