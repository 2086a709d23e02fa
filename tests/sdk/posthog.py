"""Sends the fixture events through the official posthog (Python) SDK to SEXTANT_URL (it posts
to /batch/), so Sextant's e2e test can check each one lands exactly once.
Prints one JSON line (see common.py). The SDK reports failures only through on_error(e, batch)
and its logger; success = shutdown() drained the queue with neither of them firing.
posthog-python 7 has no identify(): alias() ($create_alias) links the device, set() ($set) the traits."""
import logging, uuid
from datetime import datetime, timezone
from common import Harness  # first: it takes tests/sdk off sys.path
from posthog import Posthog

h = Harness("posthog-python")
problems = []


class Log(logging.Handler):
    def emit(self, record):
        problems.append({"log": record.levelname, "message": record.getMessage()})


logging.getLogger("posthog").addHandler(Log(logging.WARNING))
ph = Posthog(h.key, host=h.url, flush_at=100, flush_interval=0.2,
             on_error=lambda e, batch: problems.append({"on_error": repr(e), "batch": len(batch)}))
ts = lambda ms: datetime.fromtimestamp(ms / 1000, timezone.utc)


def capture(e):
    h.sent.append(e)
    ph.capture(e["event"], distinct_id=e["user_id"] or e["device_id"], uuid=e["insert_id"], timestamp=ts(e["time_ms"]),
               properties={**e["properties"], "$device_id": e["device_id"]})


if h.mode == "normal":
    capture(h.events[0])
    i = h.identify
    alias = dict(i, kind="alias", event="$create_alias",
                 insert_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"sextant-sdk:{h.sdk}:{h.run}:alias")))
    h.sent += [alias, dict(i, event="$set")]
    ph.alias(previous_id=i["device_id"], distinct_id=i["user_id"], uuid=alias["insert_id"], timestamp=ts(i["time_ms"]))
    ph.set(distinct_id=i["user_id"], properties=i["traits"], uuid=i["insert_id"], timestamp=ts(i["time_ms"]))
    for e in h.events[1:]:
        capture(e)
else:  # bad_key: one valid event, wrong key; invalid_event: one event with an empty name
    capture(dict(h.events[1], **({"event": ""} if h.mode == "invalid_event" else {})))

ph.shutdown()  # flushes and joins the consumer thread (retries included)
h.reported = problems
h.finish(not problems)
