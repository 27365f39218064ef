"""The generated code in ``featurestore/_proto`` matches ``protos/`` (fix: ``make protos``)."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path

import pytest
from google.protobuf.descriptor_pb2 import (
    DescriptorProto,
    FileDescriptorProto,
    FileDescriptorSet,
)

from featurestore._proto import generate

PROTOS = generate.proto_files()
FIX = "the generated code is out of date with protos/; run `make protos` and commit the result"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FileDescriptorProto]:
    """Each proto file compiled by protoc now, by its import path, without ``json_name``
    (protoc records it in descriptor sets; the Python generator leaves it out)."""
    out = tmp_path_factory.mktemp("protos") / "set.pb"
    files = FileDescriptorSet.FromString(generate.descriptor_set(out)).file
    for f in files:
        _strip_json_names(f.message_type)
    return {f.name: f for f in files}


def _strip_json_names(messages: Iterable[DescriptorProto]) -> None:
    for message in messages:
        for field in [*message.field, *message.extension]:
            field.ClearField("json_name")
        _strip_json_names(message.nested_type)


def test_protos_exist() -> None:
    names = [p.name for p in PROTOS]
    assert "registry.proto" in names, f"protos/featurestore/v1 has {names}"


@pytest.mark.parametrize("proto", PROTOS, ids=[p.name for p in PROTOS])
def test_every_proto_has_generated_modules(proto: Path) -> None:
    # one case per proto file: its message, stub and gRPC modules were all generated
    for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"):
        generated = generate.OUT_DIR / f"{proto.stem}{suffix}"
        assert generated.is_file(), f"{generated.name} is missing; {FIX}"


def test_no_generated_module_without_a_proto() -> None:
    stems = {p.stem for p in PROTOS}
    orphans = [
        f.name for f in generate.OUT_DIR.glob("*_pb2*.py*") if f.name.split("_pb2")[0] not in stems
    ]
    assert not orphans, f"{orphans} have no .proto in protos/featurestore/v1; {FIX}"


@pytest.mark.parametrize("proto", PROTOS, ids=[p.name for p in PROTOS])
def test_generated_descriptor_matches_proto(
    proto: Path, compiled: dict[str, FileDescriptorProto]
) -> None:
    # one case per proto file: the descriptor embedded in the module is what protoc gives now
    module = importlib.import_module(f"featurestore._proto.{proto.stem}_pb2")
    embedded = FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
    current = compiled[f"featurestore/v1/{proto.name}"]
    if embedded != current:
        before = {m.name: m for m in embedded.message_type}
        after = {m.name: m for m in current.message_type}
        changed = sorted(n for n in before.keys() | after.keys() if before.get(n) != after.get(n))
        pytest.fail(f"{proto.name}: messages added, removed or changed: {changed}; {FIX}")
