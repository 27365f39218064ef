#!/usr/bin/env bash
# The README demo, on the embedded defaults (no server to install): generate data for the
# example repo, plan, apply, and browse the registry. Safe to rerun: the data is rewritten,
# and applying unchanged definitions writes no new registry version.
#
#   bash scripts/demo.sh                 # or `make demo`, which sets up .venv first
#   DEMO_ROWS=100000 bash scripts/demo.sh
#   DEMO_REPO=/tmp/my_copy bash scripts/demo.sh   # run on a copy of feature_repo
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO="${DEMO_REPO:-$ROOT/feature_repo}"
ROWS="${DEMO_ROWS:-20000}"
if [[ -x "$ROOT/.venv/bin/featurestore" ]]; then
    PATH="$ROOT/.venv/bin:$PATH"
fi

fs() { featurestore -C "$REPO" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Generate $ROWS rows of viewing activity (deterministic, ending this hour)"
python "$REPO/generate_data.py" --rows "$ROWS" --end now --out "$REPO/data"

step "Plan: what apply would change, checked against the data"
fs plan

step "Apply the definitions as a new registry version"
fs apply -m "demo: streaming features"

step "Browse the registry"
fs list feature-views
fs registry history

# --------------------------------------------------------------------------------------
# Later steps, in this order; each appends its block here (keep them rerunnable):
#   training frame for churn_labels.parquet with the churn_model service   (issue 3)
#   materialize to the embedded online store, then an online lookup        (issue 4)
#   featurestore serve + a FeatureClient call                              (issue 5)
#   featurestore jobs run-due / status                                     (issue 6)
#   training dataset -> model -> deploy -> online prediction               (issue 7)
# --------------------------------------------------------------------------------------

step "Scheduled materialization: one pass of the due views, then their status"
fs jobs run-due
fs status

step "Done: the registry is at $REPO/data/registry"
