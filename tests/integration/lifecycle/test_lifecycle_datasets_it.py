"""Training datasets end to end on real files: lineage, reading back, verify."""

from __future__ import annotations

import os

import pyarrow.parquet as pq
import pytest
from lifecycle_flow import Flow

from featurestore.errors import RegistryError
from featurestore.lifecycle import get_training_dataset, register_model, verify_training_dataset
from featurestore.lifecycle.lineage import table_fingerprint
from featurestore.repo.fingerprint import data_fingerprint

REFS = ["activity:plays", "activity:minutes", "profile:tenure"]


def test_lineage_records_everything_the_frame_came_from(
    flow: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEATURESTORE_AUTHOR", "ana@example.com")
    ds = flow.store.create_training_dataset("train", flow.entity_df(), REFS, description="v1")
    defs = flow.store.definitions()
    assert ds.registry_version == flow.store.registry.head()
    assert ds.feature_refs == tuple(REFS)
    assert ds.feature_service == ""
    assert [(v.view, v.kind, v.features) for v in ds.views] == [
        ("activity", "feature view", ("plays", "minutes")),
        ("profile", "feature view", ("tenure",)),
    ]
    for lineage in ds.views:
        assert lineage.data_fingerprint == data_fingerprint(defs.get(lineage.view), defs)
    activity_file = flow.path / "data" / "activity" / "a.parquet"
    (only,) = ds.view("activity").files
    assert only.path == "data/activity/a.parquet"  # relative to the repo
    assert only.size == activity_file.stat().st_size
    assert only.mtime is not None
    assert abs(only.mtime.timestamp() - activity_file.stat().st_mtime) < 1e-3
    assert ds.view("profile").source == "data/profile.parquet"
    assert ds.entity_columns == ("member_id", "event_timestamp", "churned")
    assert ds.row_count == 8
    assert [name for name, _ in ds.schema] == [
        "member_id",
        "event_timestamp",
        "churned",
        "plays",
        "minutes",
        "tenure",
    ]
    assert ds.created_by == "ana@example.com"
    assert ds.description == "v1"
    assert os.path.dirname(ds.uri) == str(flow.path / "data" / "datasets" / "train")
    stored = pq.read_table(ds.uri)
    expected = flow.store.get_historical_features(flow.entity_df(), REFS).to_arrow()
    assert stored.equals(expected)
    assert ds.frame_fingerprint == table_fingerprint(expected)
    assert ds.entity_fingerprint == table_fingerprint(
        expected.select(["member_id", "event_timestamp", "churned"])
    )


def test_get_returns_the_frame_and_its_lineage(flow: Flow) -> None:
    made = flow.store.create_training_dataset("train", flow.entity_df(), "churn_features")
    got = flow.store.get_training_dataset("train")
    assert got == made
    assert got.feature_service == "churn_features"
    assert got.feature_refs == ("activity:plays", "activity:minutes", "profile:tenure")
    frame = got.to_polars()
    assert frame.height == 8
    assert frame.filter(frame["member_id"] == 2)["churned"].to_list() == [True, True]
    # plays for member 2 at (now-1h, now-3h): rows at 1h and 5h ago -> 10*2+1, 10*2+5
    assert frame.filter(frame["member_id"] == 2)["plays"].to_list() == [21, 25]


def test_names_are_not_silently_reused(flow: Flow) -> None:
    first = flow.store.create_training_dataset("train", flow.entity_df(), REFS)
    model = register_model(flow.store, "churn", 1, training_dataset="train")
    with pytest.raises(RegistryError, match="training dataset 'train' already exists"):
        flow.store.create_training_dataset("train", flow.entity_df(), REFS[:1])
    second = flow.store.create_training_dataset("train", flow.entity_df(), REFS[:1], overwrite=True)
    assert get_training_dataset(flow.store, "train").id == second.id != first.id
    assert model.training_dataset_id == first.id  # the model keeps its exact dataset
    assert os.path.exists(first.uri)


def test_location_is_configurable(flow: Flow, tmp_path_factory: pytest.TempPathFactory) -> None:
    where = tmp_path_factory.mktemp("elsewhere")
    ds = flow.store.create_training_dataset("train", flow.entity_df(), REFS, location=str(where))
    assert os.path.dirname(ds.uri) == str(where)
    assert ds.to_arrow().num_rows == 8


def test_verify_unchanged_matches(flow: Flow) -> None:
    flow.store.create_training_dataset("train", flow.entity_df(), REFS)
    report = verify_training_dataset(flow.store, "train")
    assert report.matches and report.stored_intact
    assert report.definition_changes == () and report.file_changes == ()
    assert report.lines() == ["training dataset 'train' (8 rows) matches a fresh recompute"]


def test_verify_reports_a_data_change(flow: Flow) -> None:
    flow.store.create_training_dataset("train", flow.entity_df(), REFS)
    flow.write_activity([1, 2, 5], plays_offset=1000)  # same file, new values
    report = verify_training_dataset(flow.store, "train")
    assert not report.matches
    assert report.definition_changes == ()
    assert [(c.view, c.change) for c in report.file_changes] == [("activity", "modified")]
    assert report.differing_columns == ("plays",)
    text = "\n".join(report.lines())
    assert "does NOT match" in text
    assert "data changed: view 'activity': modified data/activity/a.parquet (size" in text


def test_verify_reports_a_definition_change(flow: Flow) -> None:
    ds = flow.store.create_training_dataset("train", flow.entity_df(), REFS)
    flow.define(ttl_hours=1)  # rows 3h before the entity time no longer qualify
    report = verify_training_dataset(flow.store, "train")
    assert not report.matches
    assert report.file_changes == ()
    (change,) = report.definition_changes
    assert change.view == "activity"
    assert change.old == ds.view("activity").data_fingerprint != change.new
    assert set(report.differing_columns) == {"plays", "minutes"}
    assert any(line.startswith("definitions changed: view 'activity'") for line in report.lines())


def test_verify_attributes_without_false_alarm(flow: Flow) -> None:
    flow.store.create_training_dataset("train", flow.entity_df(), REFS)
    flow.define(owner="bo")  # metadata only: same data fingerprint
    flow.write_activity([0], name="b")  # a new file, newer than every entity row
    report = verify_training_dataset(flow.store, "train")
    assert report.matches
    assert report.definition_changes == ()
    assert [(c.change, os.path.basename(c.path)) for c in report.file_changes] == [
        ("added", "b.parquet")
    ]


def test_verify_says_when_a_view_was_removed(flow: Flow) -> None:
    flow.store.create_training_dataset("train", flow.entity_df(), ["profile:tenure"])
    (flow.path / "views.py").write_text(
        "from featurestore import Entity\nmember = Entity(name='member', join_keys=['member_id'])\n"
    )
    flow.store.registry.commit(
        flow.store.load_repo(), parent=flow.store.registry.head(), author="t"
    )
    report = verify_training_dataset(flow.store, "train")
    assert not report.matches
    assert report.error  # the recompute cannot find the view
    assert "definitions changed: view 'profile' (was " in "\n".join(report.lines())
    assert "view removed" in "\n".join(report.lines())


def test_on_demand_features_record_their_source_views(flow: Flow) -> None:
    ds = flow.store.create_training_dataset(
        "train", flow.entity_df(), ["per_play:minutes_per_play", "profile:tenure"]
    )
    assert [(v.view, v.kind, v.features, len(v.files)) for v in ds.views] == [
        ("per_play", "on-demand feature view", ("minutes_per_play",), 0),
        ("profile", "feature view", ("tenure",), 1),
        ("activity", "feature view", (), 1),  # read only by the on-demand view
    ]
    assert ds.to_polars()["minutes_per_play"].null_count() == 0
    flow.define(plays="Int32")  # a type the on-demand view reads, though not selected
    report = verify_training_dataset(flow.store, "train")
    assert [c.view for c in report.definition_changes] == ["per_play", "activity"]


def test_verify_notices_a_tampered_stored_frame(flow: Flow) -> None:
    ds = flow.store.create_training_dataset("train", flow.entity_df(), REFS)
    table = pq.read_table(ds.uri)
    pq.write_table(table.slice(0, 7), ds.uri)  # a row lost from the stored file
    report = verify_training_dataset(flow.store, "train")
    assert not report.stored_intact
    assert f"the stored frame at {ds.uri} no longer has the recorded fingerprint" in (
        report.lines()
    )


def test_a_moved_repo_keeps_its_datasets(
    flow: Flow, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import shutil

    from featurestore import FeatureStore

    flow.store.create_training_dataset("train", flow.entity_df(), REFS)
    moved = tmp_path_factory.mktemp("clone") / "repo"
    shutil.copytree(flow.path, moved)
    store = FeatureStore(moved)
    ds = store.get_training_dataset("train")
    assert ds.uri.startswith(str(moved))
    assert ds.to_arrow().num_rows == 8
    report = verify_training_dataset(store, "train")
    assert report.matches
    assert [(c.change, c.path) for c in report.file_changes] == []
