"""``apply`` deletes the online values that no view can read any more, and says so first."""

from __future__ import annotations

import pyarrow as pa
from online_support import activity_row, ts

from featurestore.online.base import ReadRequest


def _stored(store, view_name: str, definitions) -> list[bytes | None]:
    view = definitions.feature_view(view_name)
    return store.online_store.read([ReadRequest(view, pa.array([b"1"], pa.binary()))])[0]


def _rewrite(store, old: str, new: str) -> None:
    path = store.repo_path / "definitions.py"
    source = path.read_text()
    assert old in source
    path.write_text(source.replace(old, new))


def test_removed_view_is_deleted_online(repo_factory) -> None:
    store = repo_factory(profile=[{"member_id": 1, "country": "NL", "event_timestamp": ts(1)}])
    store.materialize(ts(0), ts(2), views=["profile"])
    before = store.definitions()
    assert _stored(store, "profile", before) != [None]
    _rewrite(store, "profile = FeatureView(", "_removed = dict(")
    _rewrite(store, ', profile[["country"]]', "")
    plan = store.plan()
    assert ("profile", "the view is removed") in plan.online_cleanup
    assert "values of view profile will be deleted" in plan.render()
    store.apply("drop profile", plan=plan)
    assert _stored(store, "profile", before) == [None]


def test_layout_change_deletes_old_values(repo_factory) -> None:
    store = repo_factory(activity=[activity_row(1, 1, plays=5)])
    store.materialize(ts(0), ts(2), views=["activity"])
    before = store.definitions()
    assert _stored(store, "activity", before) != [None]
    # A new feature is non-breaking for readers of the registry, but it changes the
    # online layout, so the old values can never be read again.
    _rewrite(store, 'Field("genre", String)]', 'Field("genre", String), Field("extra", Int64)]')
    plan = store.plan(check_data=False)
    assert [view for view, _ in plan.online_cleanup] == ["activity"]
    store.apply("add a feature", plan=plan)
    assert _stored(store, "activity", before) == [None]


def test_metadata_change_keeps_online_values(repo_factory) -> None:
    store = repo_factory(activity=[activity_row(1, 1, plays=5)])
    store.materialize(ts(0), ts(2), views=["activity"])
    _rewrite(store, 'name="activity", entities', 'name="activity", owner="ads", entities')
    plan = store.plan()
    assert plan.has_changes and plan.online_cleanup == ()
    store.apply("owner", plan=plan)
    assert store.get_online_features(["activity:plays"], [{"member_id": 1}]).to_dict()["plays"] == [
        5
    ]
