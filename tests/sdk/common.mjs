// Shared by the tests/sdk/*.mjs scripts: the env contract (SEXTANT_URL, SEXTANT_KEY, SEXTANT_RUN,
// SEXTANT_MODE / --bad-key), the fixture tests/fixtures/sdk/events.json expanded for one run,
// module loading from the SDK dir of install.sh, the single JSON result line, and a watchdog so
// no script can hang on an SDK that retries forever.
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SDK_DIR = process.env.SEXTANT_SDK_DIR || path.join(os.homedir(), '.cache/sextant/sdk');
// ESM ignores NODE_PATH, so resolve the SDKs from $SDK_DIR/node/node_modules explicitly.
export const sdkRequire = createRequire(path.join(SDK_DIR, 'node', 'index.js'));

// Name-based UUID (v5, NAMESPACE_URL), identical to Python's uuid.uuid5(uuid.NAMESPACE_URL, name).
export function uuid5(name) {
  const ns = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');
  const h = createHash('sha1').update(Buffer.concat([ns, Buffer.from(name)])).digest().subarray(0, 16);
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const sub = (v, run) => JSON.parse(JSON.stringify(v).replaceAll('{run}', run));

// start('amplitude-node') -> harness object; the script fills h.sent / h.reported and calls h.finish(ok).
export function start(sdk) {
  const url = (process.env.SEXTANT_URL || 'http://127.0.0.1:8000').replace(/\/$/, '');
  const key = process.env.SEXTANT_KEY || 'sdk-test-key';
  const run = process.env.SEXTANT_RUN || String(Date.now());
  const mode = process.argv.includes('--bad-key') ? 'bad_key' : process.env.SEXTANT_MODE || 'normal';
  const fx = sub(JSON.parse(readFileSync(path.join(HERE, '../fixtures/sdk/events.json'), 'utf8')), run);
  const t0 = Date.now();
  const events = fx.events.map((e) => ({
    kind: 'track', n: e.n, event: e.event,
    user_id: e.anonymous ? null : fx.user_id, device_id: fx.device_id,
    insert_id: uuid5(`sextant-sdk:${sdk}:${run}:${e.n}`), time_ms: t0 - (6 - e.n) * 1000,
    properties: { run, n: e.n, ...e.properties },
  }));
  const identify = {
    kind: 'identify', n: 0, event: '$identify', user_id: fx.user_id, device_id: fx.device_id,
    insert_id: uuid5(`sextant-sdk:${sdk}:${run}:0`), time_ms: t0 - 4500, traits: fx.traits,
  };
  const h = {
    sdk, url, key, run, mode, fixture: fx, events, identify, sent: [], reported: [],
    require: sdkRequire,
    finish(ok, extra = {}) {
      const expectOk = mode === 'normal';
      const pass = !extra.timeout && ok === expectOk;
      process.stdout.write(JSON.stringify({ sdk, mode, run, ok, pass, ...extra, sent: h.sent, sdk_reported: h.reported }) + '\n');
      process.exit(extra.timeout ? 3 : pass ? 0 : 1);
    },
  };
  const limit = Number(process.env.SEXTANT_TIMEOUT || (mode === 'normal' ? 60 : 30)) * 1000;
  setTimeout(() => h.finish(false, { timeout: true, error: `no SDK verdict within ${limit} ms` }), limit).unref();
  return h;
}
