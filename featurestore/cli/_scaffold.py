"""``featurestore init``: a small working feature repo with sample data made on the spot."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from featurestore.errors import ConfigError

CONFIG = """\
# The feature repo's settings. ${{ENV_VAR}} anywhere in a value is replaced by that variable.
project: {project}
registry: data/registry
online_store:
  type: sqlite
  path: data/online.db
offline_store:
  type: duckdb
"""

FEATURES = '''\
"""Features of a small shop: customers, products, and what a recommender model uses."""

from datetime import timedelta

import polars as pl

from featurestore import (
    Entity,
    FeatureService,
    FeatureView,
    Field,
    ParquetSource,
    RequestSource,
    on_demand_feature_view,
)
from featurestore.types import Float32, Float64, Int64

customer = Entity(name="customer", join_keys=["customer_id"], description="A shop customer")
product = Entity(name="product", join_keys=["product_id"], description="An item for sale")

customer_orders = FeatureView(
    name="customer_orders",
    entities=[customer],
    schema=[
        Field("orders_7d", Int64, description="Orders in the last 7 days"),
        Field("spend_7d", Float64, description="Money spent in the last 7 days"),
    ],
    source=ParquetSource(path="data/customer_orders.parquet", timestamp_field="event_timestamp"),
    ttl=timedelta(days=7),
    schedule="@daily",
    owner="growth-team",
)

product_popularity = FeatureView(
    name="product_popularity",
    entities=[product],
    schema=[Field("views_1d", Int64), Field("rating", Float32)],
    source=ParquetSource(
        path="data/product_popularity.parquet",
        timestamp_field="event_timestamp",
        created_timestamp_column="created",
    ),
    ttl=timedelta(days=2),
    schedule="@hourly",
    owner="catalog-team",
)

cart = RequestSource(name="cart", schema=[Field("cart_value", Float64)])


@on_demand_feature_view(sources=[customer_orders, cart], schema=[Field("cart_vs_spend", Float64)])
def cart_vs_spend(df: pl.DataFrame) -> pl.DataFrame:
    """The cart's value relative to the customer's weekly spend."""
    return df.select((pl.col("cart_value") / (pl.col("spend_7d") + 1.0)).alias("cart_vs_spend"))


recommender = FeatureService(
    name="recommender",
    features=[customer_orders, product_popularity[["rating"]], cart_vs_spend],
    owner="ml-team",
)
'''


DATA = ("customer_orders", "product_popularity")


def project_name(directory: Path) -> str:
    """A valid project name from a directory name (``my-repo`` -> ``my_repo``)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", directory.resolve().name) or "features"
    return f"p_{name}" if name[0].isdigit() else name


def scaffold(directory: Path, *, days: int = 5, seed: int = 7) -> list[Path]:
    """Write a repo (config, definitions, sample Parquet data) into ``directory``."""
    targets = ["featurestore.yaml", "features.py", *(f"data/{n}.parquet" for n in DATA)]
    existing = [t for t in targets if (directory / t).exists()]
    if existing:
        msg = (
            f"{directory / existing[0]} already exists; init writes a new repo and never "
            "overwrites files (choose an empty or new directory)"
        )
        raise ConfigError(msg)
    data = directory / "data"
    data.mkdir(parents=True, exist_ok=True)
    written = [directory / "featurestore.yaml", directory / "features.py"]
    written[0].write_text(CONFIG.format(project=project_name(directory)))
    written[1].write_text(FEATURES)
    rng = random.Random(seed)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    times = [end - timedelta(days=d) for d in range(days, 0, -1)]
    ts = pa.timestamp("us", tz="UTC")
    customers = [(c, t) for t in times for c in range(1, 21)]
    orders = pa.table(
        {
            "customer_id": pa.array([c for c, _ in customers], pa.int64()),
            "event_timestamp": pa.array([t for _, t in customers], ts),
            "orders_7d": pa.array([rng.randint(0, 9) for _ in customers], pa.int64()),
            "spend_7d": pa.array([round(rng.uniform(0, 500), 2) for _ in customers]),
        }
    )
    products = [(p, t) for t in times for p in range(100, 110)]
    popularity = pa.table(
        {
            "product_id": pa.array([p for p, _ in products], pa.int64()),
            "event_timestamp": pa.array([t for _, t in products], ts),
            "created": pa.array([t + timedelta(minutes=5) for _, t in products], ts),
            "views_1d": pa.array([rng.randint(0, 1000) for _ in products], pa.int64()),
            "rating": pa.array([round(rng.uniform(1, 5), 1) for _ in products], pa.float32()),
        }
    )
    for name, table in (("customer_orders", orders), ("product_popularity", popularity)):
        path = data / f"{name}.parquet"
        pq.write_table(table, path)
        written.append(path)
    return written
