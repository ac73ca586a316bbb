// node watch.mjs MODE TARGET FLAG KIND USER [TOKEN]
// Prints `ready REASON` once the client serves FLAG for USER, then waits for the kill switch:
//  - ofrep, flagd (file): evaluates every 5 ms, as a busy app would;
//  - flagd-grpc: evaluates nothing until the provider reports the change the sync stream
//    pushed (`changed EPOCH_MS ["keys"]` for each such event), then evaluates once.
// Prints `disabled EPOCH_MS` the first time the flag resolves DISABLED (else `still REASON`), and exits.
import { ProviderEvents } from '@openfeature/server-sdk';
import { client, evaluate, close } from './clients.mjs';

const [mode, target, key, kind, user, token] = process.argv.slice(2);
const app = await client(mode, target, token);
const flag = { key, kind };
const context = { targetingKey: user };

let pushed;
if (mode === 'flagd-grpc') {
  pushed = new Promise((resolve) => {
    app.addHandler(ProviderEvents.ConfigurationChanged, (details) => {
      const changed = details?.flagsChanged ?? [];
      process.stdout.write(`changed ${Date.now()} ${JSON.stringify(changed)}\n`);
      if (changed.includes(key)) resolve();
    });
  });
}

const first = await evaluate(app, flag, context);
process.stdout.write(`ready ${first.reason}\n`);
if (pushed) {
  await pushed;
  const details = await evaluate(app, flag, context);
  process.stdout.write(details.reason === 'DISABLED' ? `disabled ${Date.now()}\n` : `still ${details.reason}\n`);
} else {
  for (;;) {
    const details = await evaluate(app, flag, context);
    if (details.reason === 'DISABLED') {
      process.stdout.write(`disabled ${Date.now()}\n`);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
await close();
