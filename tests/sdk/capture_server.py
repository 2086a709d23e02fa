#!/usr/bin/env python3
"""Stand-in for Sextant's compat ingestion endpoints, used to record what the official SDKs send.

Why: the SDK harness in tests/sdk/ must be checked before Sextant has these endpoints, and the
exact requests each SDK makes (path, method, encoding, key placement) are fixtures for the Rust
server. Stdlib only. Answers with the success / error shapes of shared/docs/wire-compat.md.

Every request is appended as one JSON line to --log: method, path, query, headers (minus Host
and Date), body_b64, body (decoded text after gzip / form `data` / base64 unwrapping), json (the
parsed payload if any), kind (amplitude|posthog|segment|mixpanel|plausible|unknown), key (the
key found in the request), status and response sent.

  capture_server.py --port 0 --log FILE [--key KEY] [--respond ok|400|401|413|429|503]
                    [--fail-times N] [--retry-after SECONDS]
--port 0 picks a free port; the first stdout line is `listening <port>`.
--key: requests carrying another key get the documented invalid-key answer.
--respond STATUS: answer every request with that documented error (first N only with
--fail-times N, then success). Default `ok`: success, plus light validation per the doc.
"""
import argparse, base64, gzip, json, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
LOCK = threading.Lock()
COUNT = {"n": 0}
DROP_HEADERS = {"host", "date"}


def unwrap(raw, headers, query):
    """Return (text, parsed JSON or None, form fields) after undoing gzip / form / base64 wrappers."""
    if raw[:2] == b"\x1f\x8b" or "gzip" in headers.get("content-encoding", ""):
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8", "replace")
    form = {}
    if "x-www-form-urlencoded" in headers.get("content-type", ""):
        form = {k: v[-1] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()}
    data = form.get("data", query.get("data"))
    if data is not None:  # Mixpanel / PostHog form or query `data=`: plain JSON or base64 JSON
        text = data
        if not data.lstrip().startswith(("{", "[")):
            try:
                text = base64.b64decode(data + "=" * (-len(data) % 4), validate=True).decode()
            except Exception:
                pass
    try:
        return text, json.loads(text), form
    except Exception:
        return text, None, form


def classify(path, body):
    p = path.rstrip("/")
    if p in ("/2/httpapi",) or (p == "/batch" and isinstance(body, dict) and "events" in body):
        return "amplitude"
    if p.startswith("/v1/"):
        return "segment"
    if p == "/api/event":
        return "plausible"
    if p in ("/track", "/engage", "/import", "/groups") and not (isinstance(body, dict) and ("api_key" in body or "batch" in body)):
        return "mixpanel"
    if p in ("/e", "/i/v0/e", "/capture", "/track", "/engage", "/batch", "/flags", "/decide"):
        return "posthog"
    return "unknown"


def find_key(kind, body, headers, params):
    auth = headers.get("authorization", "")
    if auth.startswith("Basic "):
        user = base64.b64decode(auth[6:]).decode(errors="replace").split(":")[0]
    else:
        user = None
    if kind == "amplitude" and isinstance(body, dict):
        return body.get("api_key")
    if kind == "posthog" and isinstance(body, dict):
        return body.get("api_key") or body.get("token")
    if kind == "segment":
        return body.get("writeKey") if isinstance(body, dict) and body.get("writeKey") else user
    if kind == "mixpanel":
        items = body if isinstance(body, list) else [body]
        for it in items:
            if isinstance(it, dict):
                props = it.get("properties") or {}
                if props.get("token") or it.get("$token"):
                    return props.get("token") or it.get("$token")
        return user or params.get("api_key")
    if kind == "plausible" and isinstance(body, dict):
        return body.get("d") or body.get("domain")
    return None


def error_answer(kind, status, body, verbose):
    """Documented error shape for `status` on this kind of endpoint: (status, content-type, body)."""
    if kind == "amplitude":
        n = len(body.get("events", [])) if isinstance(body, dict) else 0
        shapes = {
            400: {"code": 400, "error": "Invalid field values on some events",
                  "events_with_invalid_fields": {"time": [0]}},
            401: {"code": 401, "error": "Unauthorized"},
            413: {"code": 413, "error": "Payload too large"},
            429: {"code": 429, "error": "Too many requests for some devices and users", "eps_threshold": 30,
                  "throttled_devices": {}, "throttled_users": {}, "throttled_events": list(range(n))},
            503: {"code": 503, "error": "Service unavailable"},
        }
        return status, "application/json", json.dumps(shapes.get(status, {"code": status, "error": "error"}))
    if kind == "mixpanel":
        if verbose:
            return status, "application/json", json.dumps({"status": 0, "error": f"HTTP {status}"})
        return status, "text/plain", "0"
    if kind == "plausible" and status == 400:
        return 400, "application/json", json.dumps({"errors": {"url": ["is required"]}})
    if kind == "segment":
        # segment-python reads `code` and `message` from a JSON error body (else logs "Unknown error")
        return status, "application/json", json.dumps({"success": False, "code": f"http_{status}", "message": f"HTTP {status}"})
    text = {400: "Bad request", 401: "Invalid API key", 413: "Payload too large",
            429: "Too many requests", 503: "Service unavailable"}.get(status, "error")
    return status, "text/plain", text


def success_answer(kind, body, raw_len, verbose):
    if kind == "amplitude":
        n = len(body.get("events", [])) if isinstance(body, dict) else 0
        return 200, "application/json", json.dumps({"code": 200, "events_ingested": n, "payload_size_bytes": raw_len,
                                                     "server_upload_time": int(time.time() * 1000)})
    if kind == "posthog":
        return 200, "application/json", json.dumps({"status": "Ok"})
    if kind == "segment":
        return 200, "application/json", json.dumps({"success": True})
    if kind == "mixpanel":
        if verbose:
            return 200, "application/json", json.dumps({"status": 1, "error": None})
        return 200, "text/plain", "1"
    if kind == "plausible":
        return 202, "text/plain", "ok"
    return 404, "text/plain", "not found"


def invalid_answer(kind, body, verbose):
    """Light validation per wire-compat.md; returns an answer tuple for an invalid request, else None."""
    if kind == "amplitude" and isinstance(body, dict):
        events = body.get("events") or []
        missing = [i for i, e in enumerate(events) if not (e.get("user_id") or e.get("device_id"))]
        no_type = [i for i, e in enumerate(events) if not e.get("event_type")]
        if missing or no_type:
            fields = {k: v for k, v in (("device_id", missing), ("event_type", no_type)) if v}
            return 400, "application/json", json.dumps({"code": 400, "error": "Invalid field values on some events",
                                                        "events_with_invalid_fields": {},
                                                        "events_with_missing_fields": fields})
    if kind == "posthog" and isinstance(body, dict):
        batch = body.get("batch") if "batch" in body else [body]
        if any(not (e or {}).get("event") for e in batch):
            return 400, "text/plain", "Invalid payload: event name missing"
    if kind == "segment" and isinstance(body, dict):
        batch = body.get("batch") if "batch" in body else [body]
        if any(not (e.get("userId") or e.get("anonymousId")) for e in batch):
            return 400, "application/json", json.dumps({"success": False, "code": "invalid_request",
                                                        "message": "userId or anonymousId required"})
    if kind == "mixpanel":
        items = body if isinstance(body, list) else [body]
        if any(not isinstance(it, dict) for it in items) or any("properties" in it and not it.get("event") for it in items):
            return error_answer(kind, 400, body, verbose)
    if kind == "plausible" and isinstance(body, dict):
        errs = {f: ["is required"] for f, short in (("name", "n"), ("url", "u")) if not (body.get(f) or body.get(short))}
        if errs:
            return 400, "application/json", json.dumps({"errors": errs})
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            text, body, form = unwrap(raw, headers, query)
        except Exception as e:
            text, body, form = f"<undecodable: {e}>", None, {}
        params = {**query, **form}  # mixpanel-python sends verbose=1 in the form body
        kind = classify(url.path, body)
        key = find_key(kind, body, headers, params)
        verbose = params.get("verbose") == "1"
        with LOCK:
            COUNT["n"] += 1
            n = COUNT["n"]
        if self.command == "OPTIONS":
            answer = (204, "text/plain", "")
        elif ARGS.respond != "ok" and (ARGS.fail_times == 0 or n <= ARGS.fail_times):
            answer = error_answer(kind, int(ARGS.respond), body, verbose)
        elif ARGS.key and kind != "unknown" and key is not None and key != ARGS.key:
            answer = {"amplitude": (400, "application/json", json.dumps({"code": 400, "error": f"Invalid API key: {key}"})),
                      "mixpanel": error_answer("mixpanel", 401, body, verbose)}.get(kind) or error_answer(kind, 401, body, verbose)
        else:
            answer = invalid_answer(kind, body, verbose) or success_answer(kind, body, len(raw), verbose)
        status, ctype, out = answer
        out_b = out.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(out_b)))
        if self.headers.get("Origin"):
            self.send_header("Access-Control-Allow-Origin", self.headers["Origin"])
            self.send_header("Access-Control-Allow-Headers", "*")
        if status == 429 and ARGS.retry_after is not None:
            self.send_header("Retry-After", str(ARGS.retry_after))
        self.end_headers()
        self.wfile.write(out_b)
        rec = {"seq": n, "t": round(time.time(), 3), "method": self.command, "path": url.path, "query": query,
               "headers": {k: v for k, v in headers.items() if k not in DROP_HEADERS},
               "form": {k: v for k, v in form.items() if k != "data"},
               "body_b64": base64.b64encode(raw).decode(), "body": text, "json": body,
               "kind": kind, "key": key, "status": status, "response": out}
        with LOCK, open(ARGS.log, "a") as f:
            f.write(json.dumps(rec) + "\n")

    do_GET = do_POST = do_PUT = do_OPTIONS = handle_any


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", required=True)
    ap.add_argument("--key")
    ap.add_argument("--respond", default="ok", choices=["ok", "400", "401", "413", "429", "503"])
    ap.add_argument("--fail-times", type=int, default=0)
    ap.add_argument("--retry-after", type=int)
    ARGS = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    print(f"listening {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
