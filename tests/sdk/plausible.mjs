// Sends a pageview and a custom event (props + revenue) through the official Plausible tracker
// (@plausible-analytics/tracker, the npm build of script.js) running in headless Chromium, to
// SEXTANT_URL/api/event, so Sextant's e2e test can check both land exactly once.
// SEXTANT_KEY is the site domain. The script serves the page and the tracker itself on a free
// port; SDK verdict = the status the tracker hands to each track() callback (2xx = ok).
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { start, SDK_DIR } from './common.mjs';

const h = start('plausible-browser');
const { chromium } = h.require('playwright-core');
const tracker = readFileSync(path.join(SDK_DIR, 'node/node_modules/@plausible-analytics/tracker/plausible.js'));
const calls = h.mode === 'normal'
  ? h.fixture.plausible.events.map((e) => ({ event: e.event, props: e.props, revenue: e.revenue }))
  : [{ event: h.mode === 'invalid_event' ? '' : 'pageview' }]; // bad_key: the domain is wrong

const page = `<!doctype html><title>sextant sdk test</title><h1>run ${h.run}</h1>
<script type="module">
  import { init, track } from '/tracker.js';
  init({ domain: ${JSON.stringify(h.key)}, endpoint: ${JSON.stringify(`${h.url}/api/event`)},
         autoCapturePageviews: false, captureOnLocalhost: true, logging: true });
  const one = (c) => new Promise((resolve) => track(c.event, { props: c.props, revenue: c.revenue, callback: resolve }));
  window.results = [];
  for (const c of ${JSON.stringify(calls)}) {
    const r = await one(c);
    window.results.push({ event: c.event, status: r?.status ?? null, error: r?.error ? String(r.error) : r ? null : 'ignored by tracker' });
  }
</script>`;
const server = http.createServer((req, res) => {
  const js = req.url === '/tracker.js';
  res.writeHead(200, { 'Content-Type': js ? 'text/javascript' : 'text/html' });
  res.end(js ? tracker : page);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const pageUrl = `http://127.0.0.1:${server.address().port}/sdk/${h.run}`;

// A desktop Chrome UA: the default "HeadlessChrome" UA is a bot to Plausible's filters.
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium' });
const ctx = await browser.newContext({ userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0.0.0 Safari/537.36' });
const tab = await ctx.newPage();
tab.on('console', (m) => h.reported.push({ console: m.text() }));
await tab.goto(pageUrl);
await tab.waitForFunction((n) => window.results?.length === n, calls.length, { timeout: 25000 });
const results = await tab.evaluate(() => window.results);
await ctx.close(); // page hide: the tracker may send its "engagement" event here
await browser.close();
server.close();
h.sent = calls.map((c) => ({ kind: c.event === 'pageview' ? 'pageview' : 'custom', event: c.event, url: pageUrl, domain: h.key, props: c.props ?? null, revenue: c.revenue ?? null }));
h.reported.unshift(...results);
h.finish(results.every((r) => r.status >= 200 && r.status < 300));
