"""survey's pure domain (no I/O)."""
