"""Sends the fixture events through the official amplitude-analytics (Python) SDK to
SEXTANT_URL/2/httpapi, so Sextant's e2e test can check each one lands exactly once.
Prints one JSON line (see common.py); SDK verdict = the code passed to the per-event callback.
An "Invalid API key" 400 and a locally rejected event call no callback: the SDK only logs
them, so we watch its logger too."""
import logging, threading
from common import Harness  # first: it takes tests/sdk off sys.path
from amplitude import Amplitude, BaseEvent, Config, EventOptions, Identify

h = Harness("amplitude-python")
done = threading.Event()
results = {}


def callback(event, code, message):
    results[event.insert_id] = {"event_type": event.event_type, "insert_id": event.insert_id, "code": code, "message": message}
    if len(results) == len(h.sent):
        done.set()


class Errors(logging.Handler):
    def emit(self, record):
        h.reported.append({"log": record.levelname, "message": record.getMessage()})
        if record.getMessage().startswith(("Invalid API Key", "Invalid event body")):
            done.set()  # the two drops that call no callback


logger = logging.getLogger("amplitude-sdk-test")
logger.addHandler(Errors(logging.WARNING))
logger.propagate = False
client = Amplitude(h.key, Config(server_url=f"{h.url}/2/httpapi", flush_interval_millis=200,
                                 callback=callback, logger=logger))


def track(e):
    h.sent.append(e)
    client.track(BaseEvent(event_type=e["event"], user_id=e["user_id"], device_id=e["device_id"],
                           insert_id=e["insert_id"], time=e["time_ms"], event_properties=e["properties"],
                           revenue=e["properties"].get("revenue")))


if h.mode == "normal":
    track(h.events[0])
    ident = Identify()
    for k, v in h.identify["traits"].items():
        ident.set(k, v)
    h.sent.append(h.identify)
    i = h.identify
    client.identify(ident, EventOptions(user_id=i["user_id"], device_id=i["device_id"], insert_id=i["insert_id"], time=i["time_ms"]))
    for e in h.events[1:]:
        track(e)
else:  # bad_key: one valid event, wrong key; invalid_event: one event with neither id
    e = dict(h.events[1], **({"user_id": None, "device_id": None} if h.mode == "invalid_event" else {}))
    track(e)

client.flush()
done.wait()
h.reported = list(results.values()) + h.reported
h.finish(len(results) == len(h.sent) and all(200 <= r["code"] < 300 for r in results.values()))
