"""Queries Sextant's Amplitude Dashboard REST API (/api/2/...) with the PyPI client pyamplitude
(a DashboardClient on a region whose dashboard URL is SEXTANT_URL/api/2), so the e2e test
(crates/cli/tests/amplitude_dashboard.rs) can check that the client gets the right numbers.

Env: SEXTANT_URL, SEXTANT_KEY (api_key: the project's write key), SEXTANT_SECRET (secret_key: a
secret key of the project), SEXTANT_START / SEXTANT_END (YYYYMMDD), SEXTANT_TIMEOUT (s, default
60). Prints one JSON line {"client", "ok", "results": {name: the answer's `data`}, "errors":
{name: {"type", "status", "message"}}, "error"?}; exit 0 when every query ran, 1 otherwise,
3 when the watchdog fired."""
import json, os, sys, threading

# This folder holds scripts named like SDK packages (amplitude.py, ...): keep it off sys.path.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]

import pyamplitude  # noqa: E402
from pyamplitude import (  # noqa: E402
    AmplitudeCredentials, AmplitudeHTTPError, DashboardClient, DashboardEvent, Segment,
)
from pyamplitude.regions import REGIONS, RegionEndpoints  # noqa: E402

URL = os.environ.get("SEXTANT_URL", "http://127.0.0.1:8000").rstrip("/")
KEY, SECRET = os.environ["SEXTANT_KEY"], os.environ["SEXTANT_SECRET"]
START, END = os.environ["SEXTANT_START"], os.environ["SEXTANT_END"]
results, errors = {}, {}
done = threading.Lock()


def finish(ok, code, **extra):
    if not done.acquire(blocking=False):
        return
    line = {"client": f"pyamplitude/{pyamplitude.__version__}", "ok": ok, "results": results,
            "errors": errors, **extra}
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
    os._exit(code)


limit = float(os.environ.get("SEXTANT_TIMEOUT") or 60)
watchdog = threading.Timer(limit, lambda: finish(False, 3, error=f"not done within {limit} s"))
watchdog.daemon = True
watchdog.start()

# pyamplitude looks its base URLs up by region name: add one for this server.
REGIONS["SEXTANT"] = RegionEndpoints(
    dashboard=f"{URL}/api/2", export=f"{URL}/api/2/export", cohorts_v3=f"{URL}/api/3/cohorts",
    cohorts_v5=f"{URL}/api/5/cohorts", http_v2=f"{URL}/2/httpapi", batch=f"{URL}/batch")
client = DashboardClient(AmplitudeCredentials(api_key=KEY, secret_key=SECRET), region="SEXTANT")
span = {"start": START, "end": END}


def data(name, call):
    results[name] = call()["data"]


def refused(name, call):
    try:
        call()
    except AmplitudeHTTPError as e:
        errors[name] = {"type": type(e).__name__, "status": e.status_code, "message": str(e)}
    else:
        errors[name] = {"type": None, "status": 200, "message": "no error"}


try:
    for mode in ["uniques", "totals", "average", "pct_dau"]:
        events = ["_all"] if mode == "average" else ["purchase"] if mode == "pct_dau" else ["view"]
        data(f"segmentation_{mode}", lambda: client.event_segmentation(events=events, mode=mode, **span))
    pro_views = DashboardEvent("view")
    assert pro_views.add_filter("event", "plan", "is", ["pro"])
    assert pro_views.add_groupby("user", "country")
    data("segmentation_pro_by_country", lambda: client.event_segmentation(events=[pro_views], mode="totals", **span))
    data("segmentation_two_events", lambda: client.event_segmentation(events=["view", "purchase"], mode="uniques", **span))
    gold = Segment.user_property("gp:tier", "is", ["gold"])
    data("segmentation_gold", lambda: client.event_segmentation(events=["view"], mode="uniques", segments=[gold], **span))
    data("segmentation_weekly", lambda: client.event_segmentation(events=["view"], mode="uniques", interval=7, **span))
    data("funnel", lambda: client.funnel(events=["view", "signup", "purchase"], **span))
    data("funnel_by_country", lambda: client.funnel(events=["view", "signup", "purchase"], group_by="country", **span))
    data("retention", lambda: client.retention(start_event="_new", return_event="_all", **span))
    data("retention_rolling", lambda: client.retention(start_event="_new", return_event="_all", retention_mode="rolling", **span))
    data("users_active", lambda: client.active_users(**span))
    data("users_new", lambda: client.active_users(mode="new", **span))
    data("users_by_country", lambda: client.active_users(group_by="country", **span))
    data("sessions_average", lambda: client.average_session_length(**span))
    data("sessions_per_user", lambda: client.average_sessions_per_user(**span))
    data("sessions_length", lambda: client.session_length_distribution(**span))
    # The generic escape hatch, with a metric Sextant answers by a 400.
    refused("histogram", lambda: client.query("events/segmentation", {"e": '{"event_type":"view"}', "m": "histogram", **span}))
    wrong = DashboardClient(AmplitudeCredentials(api_key=KEY, secret_key="sx_sk_wrong"), region="SEXTANT")
    refused("bad_secret", lambda: wrong.active_users(**span))
except Exception as e:  # report whatever the client raised, with the results so far
    finish(False, 1, error=f"{type(e).__name__}: {e}")
finish(True, 0)
