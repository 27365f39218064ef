"""Generated protobuf and gRPC code; regenerate with ``make protos``. Do not edit by hand."""
