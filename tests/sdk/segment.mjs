// Sends the fixture events through the official @segment/analytics-node SDK to SEXTANT_URL (it
// posts to /v1/batch), so Sextant's e2e test can check each one lands exactly once.
// Prints one JSON line (see common.mjs); SDK verdict = the per-call callback(err, ctx):
// err set (or ctx.failedDelivery()) means the SDK gave up on that message.
import { start } from './common.mjs';

const h = start('segment-node');
const { Analytics } = h.require('@segment/analytics-node');
const analytics = new Analytics({ writeKey: h.key, host: h.url, flushInterval: 200 });
analytics.on('error', (err) => h.reported.push({ error_event: String(err?.reason ?? err?.message ?? err?.code ?? err) }));

const pending = [];
const call = (method, e, msg) => {
  h.sent.push(e);
  pending.push(new Promise((resolve) => {
    const done = (ok, error) => resolve({ type: method, messageId: e.insert_id, ok, error: error ? String(error) : null });
    try { // the SDK validates locally and throws (e.g. no userId / anonymousId)
      analytics[method](
        { ...msg, userId: e.user_id ?? undefined, anonymousId: e.device_id ?? undefined, messageId: e.insert_id, timestamp: new Date(e.time_ms) },
        (err, ctx) => done(!err && !ctx?.failedDelivery(), err?.reason ?? err?.message ?? err ?? ctx?.failedDelivery()?.reason),
      );
    } catch (err) {
      done(false, `thrown: ${err.message}`);
    }
  }));
};
const track = (e) => call('track', e, { event: e.event, properties: e.properties });

if (h.mode === 'normal') {
  track(h.events[0]);
  call('identify', h.identify, { traits: h.identify.traits });
  h.events.slice(1).forEach(track);
} else {
  // bad_key: one valid event, wrong key; invalid_event: one event with neither userId nor anonymousId.
  track({ ...h.events[1], ...(h.mode === 'invalid_event' ? { user_id: null, device_id: null } : {}) });
}
const results = await Promise.all(pending);
await analytics.closeAndFlush({ timeout: 20000 });
h.reported.unshift(...results);
h.finish(results.every((r) => r.ok));
