"""Where the streaming features' data lives. Paths are relative to this repo.

`python generate_data.py --rows N` writes every one of them (and a churn label file).
"""

from featurestore import Field, ParquetSource, PushSource, RequestSource
from featurestore.types import Int32, String

# Hourly per-member snapshots of viewing aggregates, hive-partitioned by day
# (data/member_activity/day=2026-01-01/part-0.parquet, ...).
member_activity_source = ParquetSource(
    path="data/member_activity",
    timestamp_field="event_timestamp",
    created_timestamp_column="created_timestamp",
)

# Daily per-title popularity, one file; recomputed days appear twice (a later created time).
title_popularity_source = ParquetSource(
    path="data/title_popularity.parquet",
    timestamp_field="event_timestamp",
    created_timestamp_column="created_timestamp",
)

# Per member and title: how far they got and how often they came back.
member_title_engagement_source = ParquetSource(
    path="data/member_title_engagement.parquet",
    timestamp_field="event_timestamp",
    created_timestamp_column="created_timestamp",
)

# Session summaries pushed by the playback service as sessions end (`store.push`); the
# history lands as Parquet files in a directory, which is also what training reads.
member_sessions_push = PushSource(
    name="member_sessions_push",
    batch_source=ParquetSource(
        path="data/member_sessions",
        timestamp_field="event_timestamp",
        created_timestamp_column="created_timestamp",
    ),
    description="Playback sessions, pushed by the playback service when a session ends.",
)

# Sent by the client with each ranking request.
playback_request = RequestSource(
    name="playback_request",
    schema=[
        Field("device_type", String, description="tv, mobile, web or tablet"),
        Field("local_hour", Int32, description="Hour of day in the member's time zone, 0-23"),
    ],
    description="What the client knows at request time.",
)
