// Lets @openfeature/flagd-provider (offline file, in-process) notice a replaced flag file
// within TURNOUT_FLAGD_POLL_MS (250 ms by default) instead of Node's 5 007 ms file poll, so
// a kill switch written by `turnout flags sync --to file://` reaches the app within 1 s.
//
// Load it before the app, with the provider configured through its own environment:
//   NODE_OPTIONS="--require /opt/turnout/flagd-file-poll.cjs"
//   FLAGD_RESOLVER=in-process  FLAGD_OFFLINE_FLAG_SOURCE_PATH=/flags/flags.json
//
// Why this works: the provider (0.16.1, FileFetch.connect) calls
// `fs.watchFile(path, listener)` with no options, and Node then polls the file's stat every
// 5 007 ms; no change to the file can make it look sooner, since the poll is a timer. But
// Node keeps one stat poller per resolved path and only the first `watchFile` call starts
// it (lib/fs.js: `statWatchers.get(filename)`), so a poller started here, before the
// provider connects, is the one the provider's listener joins, with this interval.
// It is not persistent: it never keeps a process (npm, a one-off script) alive by itself.
'use strict';

const { watchFile } = require('node:fs');

const path = process.env.FLAGD_OFFLINE_FLAG_SOURCE_PATH;
const given = process.env.TURNOUT_FLAGD_POLL_MS;
const interval = given === undefined || given === '' ? 250 : Number(given);

if (!Number.isInteger(interval) || interval < 10 || interval > 5007) {
  process.stderr.write(`TURNOUT_FLAGD_POLL_MS: expected whole milliseconds from 10 to 5007, got ${JSON.stringify(given)}\n`);
  process.exit(2);
}
if (path) {
  watchFile(path, { interval, persistent: false }, () => {});
}
