"""s8 router service."""
