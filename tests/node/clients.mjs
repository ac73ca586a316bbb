// The OpenFeature Node client in one of Turnout's modes, as a TypeScript app would set it up.
//   ofrep URL [TOKEN]        @openfeature/ofrep-provider against `turnout flags serve`
//   flagd PATH               @openfeature/flagd-provider in-process, offline file from `turnout flags sync`
//   flagd-grpc HOST:PORT     @openfeature/flagd-provider in-process, gRPC sync stream from
//                            `turnout flags sync --to grpc://HOST:PORT` (each change pushed)
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { FlagdProvider } from '@openfeature/flagd-provider';

const quiet = { error() {}, warn() {}, info() {}, debug() {} };

export async function client(mode, target, token) {
  let provider;
  if (mode === 'ofrep') {
    const headers = token ? [['Authorization', `Bearer ${token}`]] : [];
    provider = new OFREPProvider({ baseUrl: target, headers });
  } else if (mode === 'flagd') {
    provider = new FlagdProvider({ resolverType: 'in-process', offlineFlagSourcePath: target }, quiet);
  } else if (mode === 'flagd-grpc') {
    const at = target.lastIndexOf(':');
    // streamDeadlineMs 0: the stream stays open (a deadline ends it with an error, and the
    // provider then waits retryBackoffMaxMs before it reconnects).
    provider = new FlagdProvider({ resolverType: 'in-process', host: target.slice(0, at),
                                   port: Number(target.slice(at + 1)), streamDeadlineMs: 0 }, quiet);
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  OpenFeature.setLogger(quiet);
  await OpenFeature.setProviderAndWait(provider);
  return OpenFeature.getClient();
}

// One evaluation by the flag's kind, as the app's typed call would make it.
export function evaluate(client, flag, context) {
  const { key, kind } = flag;
  if (kind === 'boolean') return client.getBooleanDetails(key, false, context);
  if (kind === 'string') return client.getStringDetails(key, '', context);
  if (kind === 'integer' || kind === 'float') return client.getNumberDetails(key, 0, context);
  return client.getObjectDetails(key, {}, context);
}

export async function close() {
  await OpenFeature.close();
}
