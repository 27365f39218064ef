#!/usr/bin/env bash
# The README demo, on the embedded defaults (no server to install): generate data for the
# example repo, plan, apply and browse it, then materialize, look up, schedule, train,
# register, deploy and serve. Safe to rerun: the data is rewritten, and applying unchanged
# definitions writes no new registry version. Stops at the first failing step.
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
# Later steps, in this order; each adds its block below (keep them rerunnable):
#   training frame for churn_labels.parquet with the churn_model service   (issue 3)
#   materialize to the embedded online store, then an online lookup        (issue 4)
#   featurestore serve + a FeatureClient call                              (issue 5)
#   featurestore jobs run-due / status                                     (issue 6)
#   training dataset -> model -> deploy -> online prediction               (issue 7)
# --------------------------------------------------------------------------------------

# --- issue 3: a point-in-time-correct training frame ---------------------------------------
step "Training frame: churn labels + the churn_model service's features as of each label"
fs training-frame --entities data/churn_labels.parquet --service churn_model \
    --out data/churn_frame.parquet

# --- issue 4: materialize to the embedded online store, then an online lookup -------------
step "Materialize the last 30 days into the embedded online store (SQLite)"
fs materialize "$(python -c 'from datetime import UTC, datetime, timedelta; print((datetime.now(UTC) - timedelta(days=30)).isoformat())')" now

step "Online lookup: the churn_model service's features for one member"
MEMBER="$(python -c 'import sys, pyarrow.parquet as pq; print(pq.read_table(sys.argv[1], columns=["member_id"]).column(0)[0])' "$REPO/data/churn_labels.parquet")"
fs online-get --service churn_model --entity "member_id=$MEMBER"

step "Scheduled materialization: one pass of the due views, then their status"
fs jobs run-due
fs status

# --- issue 7: training dataset -> model -> deploy -> online prediction ---------------------
step "Training dataset: churn labels + the churn_model service, recorded with its lineage"
python - "$REPO" <<'PY'
import sys

import polars as pl

from featurestore import FeatureStore

repo = sys.argv[1]
store = FeatureStore(repo)
labels = pl.read_parquet(f"{repo}/data/churn_labels.parquet")
dataset = store.create_training_dataset("churn_train", labels, "churn_model", overwrite=True)
print(f"{dataset.name}: {dataset.row_count} rows, {len(dataset.feature_refs)} features, "
      f"registry {dataset.registry_version[:12]}, stored at {dataset.uri}")
PY
fs datasets show churn_train
fs datasets verify churn_train

step "Train a small churn model (logistic regression in numpy) and register it"
CHURN_VERSION="$(python - "$REPO" <<'PY'
import sys
from pathlib import Path

import numpy as np

from featurestore import FeatureStore
from featurestore.lifecycle import list_models

repo = sys.argv[1]
store = FeatureStore(repo)
dataset = store.get_training_dataset("churn_train")
frame = dataset.to_polars()
names = [ref.split(":")[1] for ref in dataset.feature_refs]
x = frame.select(names).fill_null(0).to_numpy().astype(float)
y = frame["churned"].to_numpy().astype(float)
mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
z = (x - mean) / std
w, b = np.zeros(z.shape[1]), 0.0
for _ in range(300):  # gradient descent on the log loss
    p = 1 / (1 + np.exp(-(z @ w + b)))
    w -= 0.5 * z.T @ (p - y) / len(y)
    b -= 0.5 * float(np.mean(p - y))
ranks = (z @ w + b).argsort().argsort() + 1.0
pos = y.sum()
auc = float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * (len(y) - pos)))
version = str(len(list_models(store, "churn")) + 1)
artifact = Path(repo) / "data" / "models" / f"churn-{version}.npz"
artifact.parent.mkdir(parents=True, exist_ok=True)
np.savez(artifact, w=w, b=b, mean=mean, std=std, names=np.array(names))
store.register_model("churn", version, training_dataset=dataset.name,
                     artifact_uri=str(artifact), metrics={"train_auc": auc})
print(version)
PY
)"
fs models show churn "$CHURN_VERSION"

step "Materialize up to now, then deploy: compatible definitions, fresh views, no skew"
fs materialize-incremental now >/dev/null
fs deploy churn "$CHURN_VERSION"
fs deployments

step "Serve, and predict online by model name through FeatureClient"
PORT="${DEMO_PORT:-$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
featurestore -C "$REPO" serve --port "$PORT" --flight-port 0 --metrics-port 0 \
    >"$REPO/data/serve.log" 2>&1 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
python - "$REPO" "$PORT" "$CHURN_VERSION" <<'PY'
import sys
import time

import numpy as np
import polars as pl

from featurestore import FeatureClient
from featurestore.lifecycle import with_features

repo, port, version = sys.argv[1], sys.argv[2], sys.argv[3]
model = np.load(f"{repo}/data/models/churn-{version}.npz")
client = FeatureClient(f"127.0.0.1:{port}")
for _ in range(60):  # wait for the server to come up
    try:
        client.server_info(timeout=1)
        break
    except Exception:
        time.sleep(0.5)
else:
    sys.exit(f"the server did not start; see {repo}/data/serve.log")


@with_features(client, "churn")
def churn_probability(features: pl.DataFrame) -> np.ndarray:
    x = features.select(list(model["names"])).fill_null(0).to_numpy().astype(float)
    z = (x - model["mean"]) / model["std"]
    return 1 / (1 + np.exp(-(z @ model["w"] + model["b"])))


members = pl.read_parquet(f"{repo}/data/churn_labels.parquet")["member_id"].unique().sort()[:5]
rows = [{"member_id": m} for m in members.to_list()]
for row, p in zip(rows, churn_probability(rows)):
    print(f"member {row['member_id']}: churn probability {p:.2f}")
client.close()
PY
kill "$SERVER_PID" 2>/dev/null || true
wait "$SERVER_PID" 2>/dev/null || true
trap - EXIT

step "Done: the registry is at $REPO/data/registry"
