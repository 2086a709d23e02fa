"""Sends the fixture events through the official segment-analytics-python SDK to SEXTANT_URL (it
posts to /v1/batch), so Sextant's e2e test can check each one lands exactly once.
Prints one JSON line (see common.py). The SDK reports failures only through on_error(e, batch),
its logger, or (for invalid messages) an exception from track(); success = shutdown() drained the
queue with none of them firing."""
import logging
from datetime import datetime, timezone
from common import Harness  # first: it takes tests/sdk off sys.path
from segment.analytics import Client

h = Harness("segment-python")
problems = []


class Log(logging.Handler):
    def emit(self, record):
        problems.append({"log": record.levelname, "message": record.getMessage()})


logging.getLogger("segment").addHandler(Log(logging.ERROR))
client = Client(h.key, host=h.url, upload_interval=0.2,
                on_error=lambda e, batch: problems.append({"on_error": repr(e), "batch": len(batch)}))
ts = lambda ms: datetime.fromtimestamp(ms / 1000, timezone.utc)


def send(method, e, **fields):
    h.sent.append(e)
    try:
        getattr(client, method)(user_id=e["user_id"], anonymous_id=e["device_id"], message_id=e["insert_id"],
                                timestamp=ts(e["time_ms"]), **fields)
    except Exception as err:  # local validation, e.g. neither user_id nor anonymous_id
        problems.append({"raised": repr(err)})


track = lambda e: send("track", e, event=e["event"], properties=e["properties"])
if h.mode == "normal":
    track(h.events[0])
    send("identify", h.identify, traits=h.identify["traits"])
    for e in h.events[1:]:
        track(e)
else:  # bad_key: one valid event, wrong key; invalid_event: one event with neither id
    track(dict(h.events[1], **({"user_id": None, "device_id": None} if h.mode == "invalid_event" else {})))

client.shutdown()  # flush + join the consumer thread (retries included)
h.reported = problems
h.finish(not problems)
