"""s8 sla-monitor service."""
