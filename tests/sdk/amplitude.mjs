// Sends the fixture events through the official @amplitude/analytics-node SDK to
// SEXTANT_URL/2/httpapi, so Sextant's e2e test can check each one lands exactly once.
// Prints one JSON line (see common.mjs); SDK verdict = the code in each track() result.
import { start } from './common.mjs';

const h = start('amplitude-node');
const amp = h.require('@amplitude/analytics-node');
const client = amp.createInstance();
await client.init(h.key, {
  serverUrl: `${h.url}/2/httpapi`, flushIntervalMillis: 200, logLevel: amp.Types.LogLevel.None,
}).promise;

const opts = (e) => ({
  user_id: e.user_id ?? undefined, device_id: e.device_id ?? undefined, insert_id: e.insert_id, time: e.time_ms,
  ...(e.properties?.revenue ? { revenue: e.properties.revenue } : {}),
});
const pending = [];
const send = (e, promise) => { h.sent.push(e); pending.push(promise); };

if (h.mode === 'normal') {
  const [first, ...rest] = h.events;
  send(first, client.track(first.event, first.properties, opts(first)).promise);
  const id = new amp.Identify();
  for (const [k, v] of Object.entries(h.identify.traits)) id.set(k, v);
  send(h.identify, client.identify(id, opts(h.identify)).promise);
  for (const e of rest) send(e, client.track(e.event, e.properties, opts(e)).promise);
} else {
  // bad_key: one valid event (the key is wrong); invalid_event: one event with neither id.
  const e = { ...h.events[1], ...(h.mode === 'invalid_event' ? { user_id: null, device_id: null } : {}) };
  send(e, client.track(e.event, e.properties, opts(e)).promise);
}
// No client.flush(): an explicit flush sends once WITHOUT retries (Destination.flush(useRetry=false)),
// so a single 5xx / 429 would fail the events. The 200 ms timer flush retries like a real app's.
const results = await Promise.all(pending);
h.reported = results.map((r) => ({ event_type: r.event.event_type, insert_id: r.event.insert_id, code: r.code, message: r.message }));
h.finish(results.every((r) => r.code >= 200 && r.code < 300));
