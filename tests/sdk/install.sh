#!/usr/bin/env bash
# Installs the official analytics SDKs (pinned) outside the clone, so the SDK harness in
# tests/sdk/ can send real SDK traffic to Sextant, an Amplitude Dashboard API client can query
# it, and schemathesis can fuzz the API from its OpenAPI description. Idempotent: a stamp file holding the pinned list makes a re-run with everything
# present a no-op (~1 s).
#   SEXTANT_SDK_DIR  install root (default ~/.cache/sextant/sdk): $DIR/node, $DIR/py
set -euo pipefail

DIR="${SEXTANT_SDK_DIR:-$HOME/.cache/sextant/sdk}"
NPM_PKGS=(
  "@amplitude/analytics-node@1.5.73"
  "posthog-node@5.70.0"
  "@segment/analytics-node@3.1.0"
  "mixpanel@0.24.0"
  "playwright-core@1.65.1"
  "@plausible-analytics/tracker@0.4.6"   # official Plausible tracker (same code as script.js, ESM)
)
PY_PKGS=(
  "amplitude-analytics==1.3.0"
  "posthog==7.91.1"
  "segment-analytics-python==2.4.0"
  "mixpanel==5.4.1"
  "pyamplitude==2.0.0"                   # Amplitude Dashboard REST API client (amplitude_dashboard.py)
  "schemathesis==4.32.5"                 # fuzzes the API from /api/openapi.json (crates/cli/tests/openapi_fuzz.rs)
)
STAMP="$DIR/.installed"
WANT="$(printf '%s\n' "${NPM_PKGS[@]}" "${PY_PKGS[@]}")"

# Chromium for plausible.mjs (playwright-core cannot download its own browser here).
if [[ ! -x /usr/bin/chromium ]]; then
  if [[ "$(id -u)" == 0 ]]; then
    echo "install.sh: /usr/bin/chromium missing: apt-get update && apt-get install -y chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "install.sh: WARNING /usr/bin/chromium missing and not root; plausible.mjs will fail" >&2
  fi
fi

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" && -x "$DIR/py/bin/python" && -d "$DIR/node/node_modules" ]]; then
  echo "install.sh: SDKs already installed in $DIR"
else
  mkdir -p "$DIR/node"
  echo "install.sh: npm install into $DIR/node"
  npm install --prefix "$DIR/node" --no-audit --no-fund --save-exact --loglevel=error "${NPM_PKGS[@]}"
  echo "install.sh: python venv $DIR/py"
  [[ -x "$DIR/py/bin/python" ]] || python3 -m venv "$DIR/py"
  "$DIR/py/bin/python" -m pip install -q --disable-pip-version-check "${PY_PKGS[@]}"
  printf '%s\n' "$WANT" >"$STAMP"
fi

echo "install.sh: versions"
export D="$DIR"
node -e 'for (const p of process.argv.slice(1)) { const n = p.slice(0, p.lastIndexOf("@"));
  console.log(`  npm  ${n.padEnd(32)} ${require(`${process.env.D}/node/node_modules/${n}/package.json`).version}`); }' \
  "${NPM_PKGS[@]}"
"$DIR/py/bin/python" - "${PY_PKGS[@]}" <<'PY'
import sys, importlib.metadata as m
for spec in sys.argv[1:]:
    name = spec.split("==")[0]
    print(f"  pypi {name:<32} {m.version(name)}")
PY
[[ -x /usr/bin/chromium ]] && echo "  deb  chromium                         $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}')"
exit 0
