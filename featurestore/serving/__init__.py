"""Serving: the gRPC feature server, Arrow Flight for training frames, and its client."""
