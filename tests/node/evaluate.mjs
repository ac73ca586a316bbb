// node evaluate.mjs MODE TARGET [TOKEN] < {"flags": [{key, kind}], "contexts": [...], "pick"?: [[i, ...]]}
// Prints one JSON array per context: [[variant, reason, errorCode], ...] for every flag in order,
// or only for the flags whose indexes `pick` lists for that context.
import { readFileSync } from 'node:fs';
import { client, evaluate, close } from './clients.mjs';

const [mode, target, token] = process.argv.slice(2);
const { flags, contexts, pick } = JSON.parse(readFileSync(0, 'utf8'));
const app = await client(mode, target, token);
const CONCURRENT = 32;

async function row(context, index) {
  const chosen = pick ? pick[index].map((i) => flags[i]) : flags;
  const details = await Promise.all(chosen.map((flag) => evaluate(app, flag, context)));
  return details.map((d) => [d.variant ?? null, d.reason ?? null, d.errorCode ?? null]);
}

const rows = new Array(contexts.length);
for (let start = 0; start < contexts.length; start += CONCURRENT) {
  const batch = contexts.slice(start, start + CONCURRENT);
  const done = await Promise.all(batch.map((context, i) => row(context, start + i)));
  done.forEach((r, i) => { rows[start + i] = r; });
}
process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
await close();
