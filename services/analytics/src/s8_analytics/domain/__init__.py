"""Analytics' pure domain: KPI formulas (no I/O)."""
