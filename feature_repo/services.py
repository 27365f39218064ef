"""Feature services: the features each model is trained and served with."""

from featurestore import FeatureService

from on_demand import watch_context
from views import (
    member_session_events,
    member_title_engagement,
    member_viewing_activity,
    title_popularity,
)

churn_model = FeatureService(
    name="churn_model",
    features=[
        member_viewing_activity[
            [
                "plays_7d",
                "minutes_watched_7d",
                "plays_30d",
                "minutes_watched_30d",
                "distinct_titles_30d",
                "avg_completion_30d",
                "days_since_last_play",
            ]
        ],
        member_session_events[["session_minutes", "buffering_events"]],
    ],
    owner="retention-ml@streaming.example",
    tags={"model": "churn", "stage": "production"},
    description="Will a member cancel in the next 30 days? Keyed by member.",
)

ranking_model = FeatureService(
    name="ranking_model",
    features=[
        member_viewing_activity[["minutes_watched_7d", "last_device_type"]],
        title_popularity[["views_24h", "unique_viewers_7d", "avg_rating_30d", "trending_rank"]],
        member_title_engagement,
        watch_context,
    ],
    owner="personalization@streaming.example",
    tags={"model": "ranking", "stage": "production"},
    description="Orders a member's home-page rows; keyed by member and title, with request data.",
)
