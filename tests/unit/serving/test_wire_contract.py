"""The wire contract, pinned from outside the package: stubs generated from ``protos/`` alone
(by protoc, at test time, into a temp dir) call a running server in a separate process that
cannot import featurestore's own client or generated code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import grpc_tools
import pytest
from grpc_tools import protoc

pytestmark = pytest.mark.grpc

PROTOS = Path(__file__).resolve().parents[3] / "protos"

CALLER = textwrap.dedent(
    """
    import json, sys
    import grpc
    import featurestore
    assert not hasattr(featurestore, "FeatureStore"), "imported the package, not the stubs"
    from featurestore.v1 import serving_pb2 as pb, serving_pb2_grpc as pb_grpc

    stub = pb_grpc.FeatureServingStub(grpc.insecure_channel(sys.argv[1]))
    ids = pb.NamedColumn(
        name="driver_id",
        column=pb.ValueColumn(int64_values=pb.Int64Values(values=[1, 2, 3])),
    )
    reply = stub.GetOnlineFeatures(
        pb.GetOnlineFeaturesRequest(
            features=pb.FeatureRefs(refs=["driver_stats:conv_rate", "driver_stats:city"]),
            entities=[ids],
            full_feature_names=True,
        ),
        timeout=10,
    )
    keys = reply.entities[0].column.int64_values.values
    out = {"version": reply.registry_version, "entities": list(keys)}
    for f in reply.features:
        kind = f.values.WhichOneof("values")
        out[f.name] = {
            "kind": kind,
            "values": list(getattr(f.values, kind).values),
            "nulls": list(f.values.nulls),
            "statuses": list(f.statuses),
            "status_names": [pb.FeatureStatus.Name(s) for s in f.statuses],
            "ts_nulls": list(f.event_timestamps.nulls),
            "ts_kind": f.event_timestamps.WhichOneof("values"),
        }
    try:
        stub.GetOnlineFeatures(pb.GetOnlineFeaturesRequest(feature_service="nope", entities=[ids]))
    except grpc.RpcError as exc:
        out["error"] = [exc.code().name, exc.details()]
    views = stub.ListFeatureViews(pb.ListFeatureViewsRequest())
    out["views"] = [v.name for v in views.feature_views]
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def stubs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stubs")
    include = Path(grpc_tools.__file__).parent / "_proto"
    code = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTOS}",
            f"-I{include}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            str(PROTOS / "featurestore/v1/serving.proto"),
            str(PROTOS / "featurestore/v1/registry.proto"),
        ]
    )
    assert code == 0
    for package in (out / "featurestore", out / "featurestore/v1"):
        (package / "__init__.py").touch()  # regular packages shadow the installed one
    (out / "caller.py").write_text(CALLER)
    return out


def test_stubs_from_protos_alone_call_the_server(serve: Any, store: Any, stubs: Path) -> None:
    server = serve()
    env = {**os.environ, "PYTHONPATH": str(stubs)}
    result = subprocess.run(
        [sys.executable, str(stubs / "caller.py"), server.address],
        capture_output=True,
        text=True,
        env=env,
        cwd=stubs,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["version"] == store.registry.head()
    assert out["entities"] == [1, 2, 3]
    assert out["driver_stats__conv_rate"] == {
        "kind": "double_values",
        "values": [0.5, 0.0, 0.0],  # null rows hold the default, flagged in nulls
        "nulls": [False, True, True],
        "statuses": [0, 1, 2],
        "status_names": [
            "FEATURE_STATUS_PRESENT",
            "FEATURE_STATUS_NULL",
            "FEATURE_STATUS_NOT_FOUND",
        ],
        "ts_nulls": [False, False, True],
        "ts_kind": "timestamp_values",
    }
    assert out["driver_stats__city"]["kind"] == "string_values"
    assert out["driver_stats__city"]["values"] == ["Oslo", "Rome", ""]
    assert out["error"] == ["INVALID_ARGUMENT", out["error"][1]]
    assert "unknown feature service 'nope'" in out["error"][1]
    assert out["views"] == ["driver_live", "driver_stats"]
