"""Deploying models on real stores: each refusal reason with its message, records, rollback,
serving by model name."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lifecycle_flow import Flow

from featurestore.errors import DeployRefusedError, NotFoundError
from featurestore.lifecycle import (
    DeployReport,
    current_deployment,
    deployed_features,
    deployment_history,
    register_model,
    rollback_deployment,
    with_features,
)

REFS = ["activity:plays", "activity:minutes", "profile:tenure"]


def _trained(flow: Flow, *versions: str) -> None:
    flow.store.create_training_dataset("train", flow.entity_df(), REFS)
    for version in versions or ("1",):
        register_model(flow.store, "churn", version, training_dataset="train", metrics={"auc": 0.7})


def _refused(flow: Flow, version: str = "1", **options: object) -> DeployReport:
    with pytest.raises(DeployRefusedError) as info:
        flow.store.deploy_model("churn", version, **options)
    assert deployment_history(flow.store, "churn") == []  # nothing recorded
    report = info.value.report
    assert isinstance(report, DeployReport)
    return report


def test_a_model_on_fresh_unchanged_features_deploys(flow: Flow) -> None:
    _trained(flow)
    flow.materialize()
    report = flow.store.deploy_model("churn", 1)
    assert report.ok
    assert [c.name for c in report.checks] == ["compatibility", "freshness", "skew"]
    skew = report.checks[2]
    assert skew.details[0] == (
        "mismatch rate 0.00% (0 of 4 sampled entities) within the threshold 0.00%"
    )
    record = report.deployment
    assert record is not None
    assert (record.model, record.version) == ("churn", "1")
    assert record.registry_version == flow.store.registry.head()
    assert current_deployment(flow.store, "churn") == record
    assert deployed_features(flow.store, "churn") == REFS


def test_refused_on_a_breaking_change(flow: Flow) -> None:
    _trained(flow)
    flow.define(ttl_hours=72)
    flow.materialize()
    report = _refused(flow)
    assert [c.name for c in report.failed] == ["compatibility"]
    assert report.failed[0].details == ("view 'activity': breaking change to ttl: 2d -> 3d",)


def test_a_compatible_change_does_not_block(flow: Flow) -> None:
    _trained(flow)
    flow.define(owner="bo")
    flow.materialize()
    assert flow.store.deploy_model("churn", 1).ok


def test_refused_when_never_materialized(flow: Flow) -> None:
    _trained(flow)
    with pytest.raises(DeployRefusedError) as info:
        flow.store.deploy_model("churn", 1, skew_sample=0)
    assert str(info.value) == (
        "deploy of model 'churn' version '1' refused (freshness): view 'activity' was never "
        "materialized; run `featurestore materialize`"
    )
    report = info.value.report
    assert isinstance(report, DeployReport)
    assert report.failed[0].details == (
        "view 'activity' was never materialized; run `featurestore materialize`",
        "view 'profile' was never materialized; run `featurestore materialize`",
    )


def test_refused_when_stale(flow: Flow) -> None:
    _trained(flow)
    flow.materialize()
    report = _refused(flow, now=flow.now + timedelta(hours=49), skew_sample=0)
    assert [c.name for c in report.failed] == ["freshness"]
    assert report.failed[0].details[0].startswith("view 'activity' is stale: materialized up to ")
    assert report.failed[0].details[0].endswith("(2d ago), older than its ttl 2d")


def test_refused_on_skew_and_the_threshold_is_configurable(flow: Flow) -> None:
    _trained(flow)
    flow.materialize()
    flow.write_activity([0], plays_offset=500, name="late")  # new rows, not materialized
    report = _refused(flow)
    assert [c.name for c in report.failed] == ["skew"]
    details = report.failed[0].details
    assert details[0] == "mismatch rate 100.00% (4 of 4 sampled entities) above the threshold 0.00%"
    assert details[1] == "activity__plays: 4 mismatch(es)"
    assert "activity__minutes: 4 mismatch(es)" in details
    assert "member_id=1: activity:plays online 11, point-in-time 510" in details
    assert flow.store.deploy_model("churn", 1, max_mismatch_rate=1.0).ok


def test_skew_sample_is_bounded_and_reproducible(flow: Flow) -> None:
    _trained(flow)
    flow.materialize()
    flow.write_activity([0], plays_offset=500, name="late")
    a = _refused(flow, skew_sample=2)
    b = _refused(flow, skew_sample=2)
    assert a.failed[0].details[0] == (
        "mismatch rate 100.00% (2 of 2 sampled entities) above the threshold 0.00%"
    )
    assert a.failed == b.failed


def test_undeploy_and_rollback(flow: Flow) -> None:
    _trained(flow, "1", "2")
    flow.materialize()
    with pytest.raises(NotFoundError, match="no earlier deployment"):
        rollback_deployment(flow.store, "churn")
    first = flow.store.deploy_model("churn", "1").deployment
    second = flow.store.deploy_model("churn", "2").deployment
    assert first is not None and second is not None
    assert second.previous == first.id
    back = rollback_deployment(flow.store, "churn").deployment
    assert back is not None
    assert back.version == "1" and back.rolled_back_from == first.id
    undone = flow.store.undeploy_model("churn")
    assert not undone.active and undone.previous == back.id
    assert current_deployment(flow.store, "churn") is None
    with pytest.raises(NotFoundError, match="model 'churn' is not deployed"):
        deployed_features(flow.store, "churn")
    with pytest.raises(NotFoundError, match="nothing to undeploy"):
        flow.store.undeploy_model("churn")
    assert [d.version for d in deployment_history(flow.store, "churn")] == ["", "1", "2", "1"]


def test_predict_hook_fetches_the_deployed_features(flow: Flow) -> None:
    _trained(flow)
    flow.materialize()
    flow.store.deploy_model("churn", 1)
    seen = []

    @with_features(flow.store, "churn")
    def predict(features, scale: float = 1.0):  # type: ignore[no-untyped-def]
        seen.append(features.columns)
        return [p * scale for p in features["plays"].to_list()]

    assert predict([{"member_id": 2}, {"member_id": 3}], scale=2.0) == [42.0, 62.0]
    assert seen == [["member_id", "plays", "minutes", "tenure"]]


@pytest.mark.redis
def test_deploy_and_skew_on_redis(redis_flow: Flow) -> None:
    _trained(redis_flow)
    redis_flow.materialize()
    assert redis_flow.store.deploy_model("churn", 1).ok
    redis_flow.write_activity([0], plays_offset=500, name="late")
    with pytest.raises(DeployRefusedError, match=r"refused \(skew\): mismatch rate 100.00%"):
        redis_flow.store.deploy_model("churn", 1)


@pytest.mark.grpc
def test_serving_by_model_name_over_grpc(flow: Flow) -> None:
    from featurestore.errors import RequestError
    from featurestore.serving.client import FeatureClient
    from featurestore.serving.server import FeatureServer, ServeOptions

    _trained(flow)
    flow.materialize()
    with FeatureServer(flow.store, ServeOptions(port=0)) as server:
        client = FeatureClient(server.address)
        try:
            with pytest.raises(RequestError, match="model 'churn' is not deployed"):
                client.get_online_features(None, [{"member_id": 2}], model="churn")
            flow.store.deploy_model("churn", 1)
            rows = [{"member_id": 2}, {"member_id": 3}]
            remote = client.get_online_features(None, rows, model="churn")
            local = flow.store.get_online_features(REFS, rows)
            assert remote.to_dict() == local.to_dict()

            @with_features(client, "churn")
            def predict(features):  # type: ignore[no-untyped-def]
                return features["tenure"].to_list()

            assert predict(rows) == [24, 36]
        finally:
            client.close()


def test_a_breaking_change_upstream_of_an_on_demand_feature_fails(flow: Flow) -> None:
    flow.store.create_training_dataset("odfv", flow.entity_df(), ["per_play:minutes_per_play"])
    register_model(flow.store, "ratio", 1, training_dataset="odfv")
    flow.define(ttl_hours=72)
    flow.materialize()
    with pytest.raises(DeployRefusedError) as info:
        flow.store.deploy_model("ratio", 1)
    report = info.value.report
    assert isinstance(report, DeployReport)
    assert [c.name for c in report.failed] == ["compatibility"]
    assert report.failed[0].details == (
        "view 'activity': breaking change to ttl: 2d -> 3d",
        "view 'per_play' changed compatibly (an upstream view)",
    )
