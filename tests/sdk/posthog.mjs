// Sends the fixture events through the official posthog-node SDK to SEXTANT_URL (it posts to
// /batch/), so Sextant's e2e test can check each one lands exactly once.
// Prints one JSON line (see common.mjs); SDK verdict = flush() resolving and its 'flush' event
// listing every message, vs. a rejection / 'error' event.
import { start } from './common.mjs';

const h = start('posthog-node');
const { PostHog } = h.require('posthog-node');
const ph = new PostHog(h.key, { host: h.url, flushAt: 100, flushInterval: 0 });
const flushed = [];
ph.on('flush', (msgs) => flushed.push(...msgs.map((m) => ({ event: m.event, uuid: m.uuid, distinct_id: m.distinct_id }))));
ph.on('error', (err) => h.reported.push({ error: String(err?.message ?? err), status: err?.response?.status }));

const capture = (e) => {
  h.sent.push(e);
  ph.capture({
    distinctId: e.user_id ?? e.device_id, event: e.event, uuid: e.insert_id, timestamp: new Date(e.time_ms),
    properties: { ...e.properties, $device_id: e.device_id },
  });
};
if (h.mode === 'normal') {
  const [first, ...rest] = h.events;
  capture(first);
  // identify() takes no uuid / timestamp: the SDK picks them (recorded from the flush event).
  h.sent.push({ ...h.identify, insert_id: null, time_ms: null });
  ph.identify({ distinctId: h.identify.user_id, properties: { $set: h.identify.traits, $anon_distinct_id: h.identify.device_id } });
  rest.forEach(capture);
} else {
  // bad_key: one valid event, wrong key; invalid_event: one event with an empty name.
  capture({ ...h.events[1], ...(h.mode === 'invalid_event' ? { event: '' } : {}) });
}
let ok = true;
try {
  await ph.flush();
} catch (err) {
  ok = false;
  h.reported.push({ flush_rejected: String(err?.message ?? err) });
}
await ph.shutdown(5000);
const ident = h.sent.find((e) => e.kind === 'identify');
if (ident) ident.insert_id = flushed.find((m) => m.event === '$identify')?.uuid ?? null;
h.reported.push({ flushed });
h.finish(ok && flushed.length === h.sent.length);
