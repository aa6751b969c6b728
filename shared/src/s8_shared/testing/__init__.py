"""Helpers for tests of s8 services: data builders, infrastructure fixtures."""
