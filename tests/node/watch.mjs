// node watch.mjs MODE TARGET FLAG KIND USER [TOKEN]
// Evaluates FLAG for USER every 5 ms, as a busy app would. Prints `ready REASON` once,
// then `disabled EPOCH_MS` the first time the flag resolves DISABLED (the kill switch), and exits.
import { client, evaluate, close } from './clients.mjs';

const [mode, target, key, kind, user, token] = process.argv.slice(2);
const app = await client(mode, target, token);
const flag = { key, kind };
const context = { targetingKey: user };

const first = await evaluate(app, flag, context);
process.stdout.write(`ready ${first.reason}\n`);
for (;;) {
  const details = await evaluate(app, flag, context);
  if (details.reason === 'DISABLED') {
    process.stdout.write(`disabled ${Date.now()}\n`);
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 5));
}
await close();
