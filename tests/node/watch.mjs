// node watch.mjs MODE TARGET FLAG KIND USER [TOKEN]
// Prints `ready REASON` once the client serves FLAG for USER (flagd file mode: `ready REASON
// file-listeners=N`, the listeners on Node's one stat poller for the file: 1 is the provider's
// own poll, 2 the provider joined the poller deploy/flagd-file-poll.cjs started), then waits
// for the kill switch:
//  - ofrep, flagd (file): evaluates every 5 ms, as a busy app would;
//  - flagd-grpc: evaluates nothing until the provider reports the change the sync stream
//    pushed (`changed EPOCH_MS ["keys"]` for each such event), then evaluates once.
// Prints `disabled EPOCH_MS` the first time the flag resolves DISABLED (else `still REASON`), and exits.
import { watchFile, unwatchFile } from 'node:fs';
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

// Node returns the file's existing poller to a second watchFile; count its listeners but ours.
function fileListeners(path) {
  const probe = () => {};
  const count = watchFile(path, probe).listenerCount('change') - 1;
  unwatchFile(path, probe);
  return count;
}

const first = await evaluate(app, flag, context);
const listeners = mode === 'flagd' ? ` file-listeners=${fileListeners(target)}` : '';
process.stdout.write(`ready ${first.reason}${listeners}\n`);
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
