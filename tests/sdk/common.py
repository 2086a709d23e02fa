"""Shared by the tests/sdk/*.py scripts (Python twin of common.mjs): the env contract
(SEXTANT_URL, SEXTANT_KEY, SEXTANT_RUN, SEXTANT_MODE / --bad-key), the fixture
tests/fixtures/sdk/events.json expanded for one run, the single JSON result line, and a watchdog
so no script can hang on an SDK that retries forever."""
import json, os, sys, threading, time, uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The scripts are named like the SDK packages (amplitude.py, posthog.py, ...): drop this folder
# from sys.path once common is imported, so `import amplitude` finds the SDK, not the script.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]


def _sub(v, run):
    return json.loads(json.dumps(v).replace("{run}", run))


class Harness:
    def __init__(self, sdk):
        self.sdk = sdk
        self.url = os.environ.get("SEXTANT_URL", "http://127.0.0.1:8000").rstrip("/")
        self.key = os.environ.get("SEXTANT_KEY", "sdk-test-key")
        self.run = os.environ.get("SEXTANT_RUN") or str(int(time.time() * 1000))
        self.mode = "bad_key" if "--bad-key" in sys.argv else os.environ.get("SEXTANT_MODE", "normal")
        fx = _sub(json.loads((HERE / "../fixtures/sdk/events.json").read_text()), self.run)
        self.fixture = fx
        t0 = int(time.time() * 1000)
        uid = lambda n: str(uuid.uuid5(uuid.NAMESPACE_URL, f"sextant-sdk:{sdk}:{self.run}:{n}"))
        self.events = [
            {"kind": "track", "n": e["n"], "event": e["event"],
             "user_id": None if e.get("anonymous") else fx["user_id"], "device_id": fx["device_id"],
             "insert_id": uid(e["n"]), "time_ms": t0 - (6 - e["n"]) * 1000,
             "properties": {"run": self.run, "n": e["n"], **e["properties"]}}
            for e in fx["events"]]
        self.identify = {"kind": "identify", "n": 0, "event": "$identify", "user_id": fx["user_id"],
                         "device_id": fx["device_id"], "insert_id": uid(0), "time_ms": t0 - 4500,
                         "traits": fx["traits"]}
        self.sent, self.reported = [], []
        self._done = threading.Lock()
        limit = float(os.environ.get("SEXTANT_TIMEOUT") or (60 if self.mode == "normal" else 30))
        t = threading.Timer(limit, lambda: self.finish(False, timeout=True, error=f"no SDK verdict within {limit} s"))
        t.daemon = True
        t.start()

    def finish(self, ok, **extra):
        """Print the one result line and exit: 0 iff the SDK's verdict matches the mode."""
        if not self._done.acquire(blocking=False):
            return
        passed = not extra.get("timeout") and ok == (self.mode == "normal")
        line = {"sdk": self.sdk, "mode": self.mode, "run": self.run, "ok": ok, "pass": passed, **extra,
                "sent": self.sent, "sdk_reported": self.reported}
        sys.stdout.write(json.dumps(line, default=str) + "\n")
        sys.stdout.flush()
        os._exit(3 if extra.get("timeout") else 0 if passed else 1)  # SDK threads may still be retrying
