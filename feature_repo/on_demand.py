"""Features computed at request time from stored features and what the client sends."""

import polars as pl
from featurestore import Field, on_demand_feature_view
from featurestore.types import Bool, Float64

from sources import playback_request
from views import member_viewing_activity


@on_demand_feature_view(
    sources=[member_viewing_activity, playback_request],
    schema=[
        Field("on_usual_device", Bool, description="Requested on the device last played on"),
        Field("is_prime_time", Bool, description="Between 19:00 and 23:59 local time"),
        Field("minutes_per_play_7d", Float64, description="Mean minutes per play, 7 days"),
    ],
    owner="personalization@streaming.example",
    tags={"team": "personalization"},
)
def watch_context(df: pl.DataFrame) -> pl.DataFrame:
    """Request-time context for ranking: usual device, prime time, typical play length."""
    return df.select(
        (pl.col("device_type") == pl.col("last_device_type")).alias("on_usual_device"),
        pl.col("local_hour").is_between(19, 23).alias("is_prime_time"),
        pl.when(pl.col("plays_7d") > 0)
        .then(pl.col("minutes_watched_7d") / pl.col("plays_7d"))
        .otherwise(None)
        .alias("minutes_per_play_7d"),
    )
