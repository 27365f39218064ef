"""Regenerate the protobuf and gRPC code in this folder from ``protos/``.

Run ``make protos`` (or ``python -m featurestore._proto.generate``). The generated modules
are flattened into ``featurestore._proto`` while the wire package stays ``featurestore.v1``.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parents[2] / "protos"
OUT_DIR = Path(__file__).resolve().parent


def proto_files() -> list[Path]:
    return sorted((PROTO_ROOT / "featurestore" / "v1").glob("*.proto"))


def run_protoc(args: list[str]) -> None:
    import grpc_tools
    from grpc_tools import protoc

    include = str(Path(grpc_tools.__file__).parent / "_proto")
    code = protoc.main(["grpc_tools.protoc", f"-I{PROTO_ROOT}", f"-I{include}", *args])
    if code != 0:
        raise SystemExit(f"protoc failed with exit code {code}")


def descriptor_set(path: Path) -> bytes:
    """Compile the protos to a FileDescriptorSet, for checking drift."""
    run_protoc([f"--descriptor_set_out={path}", *map(str, proto_files())])
    return path.read_bytes()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run_protoc(
            [
                f"--python_out={tmp}",
                f"--pyi_out={tmp}",
                f"--grpc_python_out={tmp}",
                *map(str, proto_files()),
            ]
        )
        generated = Path(tmp) / "featurestore" / "v1"
        for stale in OUT_DIR.glob("*_pb2*.py*"):
            stale.unlink()
        for src in sorted(generated.iterdir()):
            text = src.read_text()
            text = re.sub(
                r"^from featurestore\.v1 import", "from featurestore._proto import", text, flags=re.M
            )
            (OUT_DIR / src.name).write_text(text)
            print(f"wrote featurestore/_proto/{src.name}")


if __name__ == "__main__":
    main()
    sys.exit(0)
