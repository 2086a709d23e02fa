// Sends the fixture events through the official mixpanel (node) SDK to SEXTANT_URL, so Sextant's
// e2e test can check each one lands exactly once. track() makes one GET /track?data=<base64> per
// event; people.set() makes GET /engage?data=<base64>. Prints one JSON line (see common.mjs);
// SDK verdict = each callback(err): the SDK calls it with an error unless the body is exactly `1`.
// Identity: Mixpanel "simplified ID merge" properties $device_id / $user_id on the events.
import { start } from './common.mjs';

const h = start('mixpanel-node');
const Mixpanel = h.require('mixpanel');
const u = new URL(h.url);
const mp = Mixpanel.init(h.key, {
  protocol: u.protocol.replace(':', ''), host: u.hostname, port: u.port, path: u.pathname.replace(/\/$/, ''),
});

const pending = [];
const callback = (what, id) => {
  let cb;
  pending.push(new Promise((resolve) => { cb = (err) => resolve({ what, id, ok: !err, error: err ? String(err.message ?? err) : null }); }));
  return cb;
};
const track = (e) => {
  h.sent.push(e);
  mp.track(e.event, {
    ...e.properties, distinct_id: e.user_id ?? e.device_id, $insert_id: e.insert_id, time: e.time_ms,
    $device_id: e.device_id, ...(e.user_id ? { $user_id: e.user_id } : {}),
  }, callback(e.event, e.insert_id));
};

if (h.mode === 'normal') {
  track(h.events[0]);
  h.sent.push({ ...h.identify, event: '$set', insert_id: null }); // /engage has no insert id
  mp.people.set(h.identify.user_id, h.identify.traits, callback('$set', h.identify.user_id));
  h.events.slice(1).forEach(track);
} else {
  // bad_key: one valid event, wrong token; invalid_event: one event with an empty name.
  track({ ...h.events[1], ...(h.mode === 'invalid_event' ? { event: '' } : {}) });
}
const results = await Promise.all(pending);
h.reported = results;
h.finish(results.every((r) => r.ok));
