"""Feature views of the streaming service: members, titles, and the two together."""

from datetime import timedelta

from featurestore import FeatureView, Field
from featurestore.types import Bool, Float32, Float64, Int32, Int64, String

from entities import member, title
from sources import (
    member_activity_source,
    member_sessions_push,
    member_title_engagement_source,
    title_popularity_source,
)

member_viewing_activity = FeatureView(
    name="member_viewing_activity",
    entities=[member],
    schema=[
        Field("plays_7d", Int64, description="Plays started in the last 7 days"),
        Field("minutes_watched_7d", Float64, description="Minutes watched in the last 7 days"),
        Field("plays_30d", Int64, description="Plays started in the last 30 days"),
        Field("minutes_watched_30d", Float64, description="Minutes watched in the last 30 days"),
        Field("distinct_titles_30d", Int64, description="Distinct titles played in 30 days"),
        Field(
            "avg_completion_30d",
            Float32,
            description="Mean fraction of a title watched per play, 30 days; null without plays",
        ),
        Field("last_device_type", String, description="Device of the latest play"),
        Field(
            "days_since_last_play",
            Int32,
            description="Whole days since the latest play; null without plays in 30 days",
        ),
    ],
    source=member_activity_source,
    ttl=timedelta(days=2),
    online=True,
    schedule="@hourly",
    owner="member-data@streaming.example",
    tags={"team": "member-data", "tier": "1"},
    description="Rolling viewing aggregates per member, recomputed every hour.",
)

title_popularity = FeatureView(
    name="title_popularity",
    entities=[title],
    schema=[
        Field("views_24h", Int64, description="Plays in the last 24 hours"),
        Field("unique_viewers_7d", Int64, description="Distinct members who played it, 7 days"),
        Field("avg_rating_30d", Float32, description="Mean star rating, 30 days; null if none"),
        Field("trending_rank", Int32, description="1 = most played title today"),
        Field("genre", String, description="Primary genre in the catalog"),
    ],
    source=title_popularity_source,
    ttl=timedelta(days=3),
    schedule="@daily",
    owner="catalog-data@streaming.example",
    tags={"team": "catalog-data", "tier": "2"},
    description="Daily popularity of each title across all members.",
)

member_title_engagement = FeatureView(
    name="member_title_engagement",
    entities=[member, title],
    schema=[
        Field("completion_ratio", Float32, description="Fraction of the title watched, 0-1"),
        Field("rewatch_count", Int32, description="Times the member restarted the title"),
        Field("minutes_watched", Float64, description="Total minutes of this title watched"),
        Field("episodes_watched", Int32, description="Episodes watched (1 for films)"),
        Field("thumbs_up", Bool, description="The member's rating; null if not rated"),
    ],
    source=member_title_engagement_source,
    ttl=timedelta(days=30),
    schedule="0 */6 * * *",
    owner="personalization@streaming.example",
    tags={"team": "personalization", "tier": "1"},
    description="How much of each title a member watched, updated every six hours.",
)

member_session_events = FeatureView(
    name="member_session_events",
    entities=[member],
    schema=[
        Field("session_minutes", Float32, description="Length of the latest session"),
        Field("session_plays", Int32, description="Titles started in the latest session"),
        Field("session_device", String, description="Device of the latest session"),
        Field("buffering_events", Int32, description="Rebuffers during the latest session"),
    ],
    source=member_sessions_push,
    ttl=timedelta(days=1),
    owner="playback@streaming.example",
    tags={"team": "playback", "tier": "1", "realtime": "true"},
    description="The latest playback session of each member, pushed in real time.",
)
