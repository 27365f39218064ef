"""materialize."""
