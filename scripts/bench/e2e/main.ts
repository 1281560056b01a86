// `npm run bench:e2e [-- flags]`: the end-to-end benchmark with chosen rates and settings (`npm run
// bench e2e` runs it with the defaults); prints the tables and writes bench-results/e2e.json.
import { parseArgs } from "node:util";
import { DEFAULT_E2E_OPTIONS as D, run } from "../e2e.bench.ts";
import { machine, printReport, saveReport } from "../report.ts";

const HELP = `npm run bench:e2e -- [flags]
  --rates <a,b,...>        offered sequencer tx/s, a step each, stopping at the first saturated (${D.rates.join(",")})
  --seconds <n>            length of each step (${D.seconds})
  --block-time <ms>        sequencer block time (${D.blockTimeMs})
  --da-block-time <ms>     local DA block time (${D.daBlockTimeMs})
  --payload raw|transfer   250 random bytes, or signed token transfers (${D.payload})
  --bundle-share <0..1>    share of transactions that are bundles spanning both rollups (${D.bundleShare})
  --keep                   keep the devnet home and its logs`;

const { values } = parseArgs({
  options: {
    rates: { type: "string" },
    seconds: { type: "string" },
    "block-time": { type: "string" },
    "da-block-time": { type: "string" },
    payload: { type: "string" },
    "bundle-share": { type: "string" },
    keep: { type: "boolean" },
    help: { type: "boolean" },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

function positive(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!(n > 0)) throw new Error(`--${flag} must be a positive number, got ${JSON.stringify(text)}`);
  return n;
}

const payload = values.payload ?? D.payload;
if (payload !== "raw" && payload !== "transfer") throw new Error(`--payload must be raw or transfer, got ${JSON.stringify(payload)}`);
const bundleShare = values["bundle-share"] === undefined ? D.bundleShare : Number(values["bundle-share"]);
if (!(bundleShare >= 0 && bundleShare <= 1)) throw new Error(`--bundle-share must be between 0 and 1, got ${values["bundle-share"]}`);

console.log("machine:", machine());
const report = await run({
  rates: values.rates === undefined ? D.rates : values.rates.split(",").map((r) => positive(r, NaN, "rates")),
  seconds: positive(values.seconds, D.seconds, "seconds"),
  blockTimeMs: positive(values["block-time"], D.blockTimeMs, "block-time"),
  daBlockTimeMs: positive(values["da-block-time"], D.daBlockTimeMs, "da-block-time"),
  payload,
  bundleShare,
  keep: values.keep ?? false,
});
printReport(report);
console.log(`saved ${saveReport(report)}`);
