"""The versioned registry of definitions."""
