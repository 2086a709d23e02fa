#!/usr/bin/env python3
"""Runs every SDK script against capture_server.py and records what happened.

Why: the captured requests are the wire fixtures the Rust server is built against, and the
error matrix is how we learn what each SDK does with each documented error answer.

  record.py             normal, bad_key and invalid_event runs of every script; writes
                        tests/fixtures/wire/captured/<sdk>-<lang>[.<mode>].jsonl
  record.py --errors    every script in normal mode against a server answering 400, 401, 413,
                        429 (with / without Retry-After), 503, and 503 once then success; writes
                        tests/fixtures/wire/captured/error-matrix.json and prints a table
  --only NAME           restrict to the scripts whose name contains NAME
Needs install.sh to have run. Uses SEXTANT_SDK_DIR like the scripts.
"""
import argparse, concurrent.futures as cf, json, os, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "fixtures/wire/captured"
SDK_DIR = Path(os.environ.get("SEXTANT_SDK_DIR") or Path.home() / ".cache/sextant/sdk")
SCRIPTS = ["amplitude.mjs", "amplitude.py", "posthog.mjs", "posthog.py", "segment.mjs", "segment.py",
           "mixpanel.mjs", "mixpanel.py", "plausible.mjs"]
NAMES = {"mjs": "node", "py": "python"}
KEY = "sdk-test-key"
# (label, capture_server args)
ERROR_CASES = [("400", ["--respond", "400"]), ("401", ["--respond", "401"]), ("413", ["--respond", "413"]),
               ("429", ["--respond", "429"]), ("429+RA1", ["--respond", "429", "--retry-after", "1"]),
               ("503", ["--respond", "503"]), ("503x1", ["--respond", "503", "--fail-times", "1"])]


def fixture_name(script):
    stem, ext = script.split(".")
    return f"{stem}-browser" if stem == "plausible" else f"{stem}-{NAMES[ext]}"


def run_once(script, server_args, mode="normal", key=KEY, timeout=None):
    """Start a capture server, run one script against it, return (result line, captured requests, seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "cap.jsonl"
        srv = subprocess.Popen([sys.executable, str(HERE / "capture_server.py"), "--port", "0", "--log", str(log),
                                "--key", KEY, *server_args], stdout=subprocess.PIPE, text=True)
        try:
            port = int(srv.stdout.readline().split()[1])
            cmd = ["node", str(HERE / script)] if script.endswith(".mjs") else [str(SDK_DIR / "py/bin/python"), str(HERE / script)]
            env = dict(os.environ, SEXTANT_URL=f"http://127.0.0.1:{port}", SEXTANT_KEY=key,
                       SEXTANT_RUN="fixture", SEXTANT_MODE=mode, **({"SEXTANT_TIMEOUT": str(timeout)} if timeout else {}))
            t0 = time.time()
            p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=(timeout or 60) + 30)
            took = round(time.time() - t0, 1)
            time.sleep(0.3)  # let the server finish writing the last request
        finally:
            srv.terminate()
            srv.wait()
        reqs = [json.loads(l) for l in log.read_text().splitlines()] if log.exists() else []
    try:
        result = json.loads(p.stdout.strip().splitlines()[-1])
    except Exception:
        result = {"ok": None, "pass": False, "error": (p.stdout + p.stderr)[-400:]}
    result["exit"] = p.returncode
    return result, reqs, took


def record(scripts):
    OUT.mkdir(parents=True, exist_ok=True)
    failures = 0
    for script in scripts:
        for mode in ("normal", "bad_key", "invalid_event"):
            result, reqs, took = run_once(script, [], mode, key="wrong-key" if mode == "bad_key" else KEY)
            name = fixture_name(script) + ("" if mode == "normal" else f".{mode}")
            (OUT / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in reqs))
            failures += result["exit"] != 0
            print(f"{name:36} exit={result['exit']} ok={result['ok']} requests={len(reqs)} {took}s "
                  f"{' '.join(sorted({r['method'] + ' ' + r['path'] for r in reqs}))}")
    return failures


def errors(scripts):
    def one(job):
        script, (label, args) = job
        result, reqs, took = run_once(script, args, timeout=45)
        t = [r["t"] for r in reqs]
        return {"sdk": fixture_name(script), "case": label, "exit": result["exit"], "sdk_ok": result["ok"],
                "timeout": bool(result.get("timeout")), "requests": len(reqs),
                "statuses": [r["status"] for r in reqs], "gaps_s": [round(b - a, 2) for a, b in zip(t, t[1:])],
                "seconds": took, "sdk_reported": result.get("sdk_reported")}
    jobs = [(s, c) for s in scripts for c in ERROR_CASES]
    with cf.ThreadPoolExecutor(3) as pool:  # mostly sleeping in backoff; keep the 2-core box usable
        rows = list(pool.map(one, jobs))
    path = OUT / "error-matrix.json"  # rows of SDKs not run this time are kept
    done = {r["sdk"] for r in rows}
    old = [r for r in json.loads(path.read_text()) if r["sdk"] not in done] if path.exists() else []
    order = {fixture_name(s): i for i, s in enumerate(SCRIPTS)}
    rows = sorted(old + rows, key=lambda r: (order[r["sdk"]], [c for c, _ in ERROR_CASES].index(r["case"])))
    path.write_text(json.dumps(rows, indent=1) + "\n")
    print("| sdk | case | requests | gaps (s) | run s | SDK said ok | timed out |\n|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['sdk']} | {r['case']} | {r['requests']} ({','.join(map(str, sorted(set(r['statuses']))))}) "
              f"| {' '.join(map(str, r['gaps_s']))} | {r['seconds']} | {r['sdk_ok']} | {r['timeout']} |")
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--errors", action="store_true")
    ap.add_argument("--only")
    a = ap.parse_args()
    chosen = [s for s in SCRIPTS if not a.only or a.only in s]
    sys.exit(1 if (errors(chosen) if a.errors else record(chosen)) else 0)
