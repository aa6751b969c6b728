"""Helpers for tests of s8 services: data builders, fakes, infrastructure fixtures.

Development only: a workspace member of the dev dependency group, never installed in the
service images (nothing under `shared/src` or `services/*/src` may import it)."""
