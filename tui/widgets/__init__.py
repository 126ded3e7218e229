"""The chat client's widgets, one per file."""
