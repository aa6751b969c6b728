"""sla-monitor's pure domain (no I/O)."""
