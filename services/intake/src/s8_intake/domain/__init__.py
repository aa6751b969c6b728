"""Intake's pure domain: turning channel messages into tickets (no I/O)."""
