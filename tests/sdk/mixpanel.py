"""Sends the fixture events through the official mixpanel (Python) SDK to SEXTANT_URL, so
Sextant's e2e test can check each one lands exactly once. The default Consumer is synchronous:
one POST /track (form: data=<JSON>, verbose=1, ip=0) per event, POST /engage for people_set;
it raises MixpanelException unless the reply is JSON {"status": 1}. Prints one JSON line (see
common.py). Identity: "simplified ID merge" properties $device_id / $user_id on the events."""
from common import Harness  # first: it takes tests/sdk off sys.path
from mixpanel import Consumer, Mixpanel

h = Harness("mixpanel-python")
mp = Mixpanel(h.key, consumer=Consumer(events_url=f"{h.url}/track", people_url=f"{h.url}/engage",
                                       groups_url=f"{h.url}/groups", import_url=f"{h.url}/import",
                                       request_timeout=10))


def call(what, ident, fn, *args):
    try:
        fn(*args)
        h.reported.append({"what": what, "id": ident, "ok": True})
    except Exception as err:  # MixpanelException: HTTP error, non-JSON reply or status != 1
        h.reported.append({"what": what, "id": ident, "ok": False, "error": repr(err)})


def track(e):
    h.sent.append(e)
    props = {**e["properties"], "$insert_id": e["insert_id"], "time": e["time_ms"], "$device_id": e["device_id"],
             **({"$user_id": e["user_id"]} if e["user_id"] else {})}
    call(e["event"], e["insert_id"], mp.track, e["user_id"] or e["device_id"], e["event"], props)


if h.mode == "normal":
    track(h.events[0])
    h.sent.append(dict(h.identify, event="$set", insert_id=None))  # /engage has no insert id
    call("$set", h.identify["user_id"], mp.people_set, h.identify["user_id"], h.identify["traits"])
    for e in h.events[1:]:
        track(e)
else:  # bad_key: one valid event, wrong token; invalid_event: one event with an empty name
    track(dict(h.events[1], **({"event": ""} if h.mode == "invalid_event" else {})))

h.finish(all(r["ok"] for r in h.reported))
