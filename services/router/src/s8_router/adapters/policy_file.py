"""The routing policy file, read once at the service's edge and validated into the domain's
`RoutingPolicy` (the domain reads no files)."""

from __future__ import annotations

from pathlib import Path

from s8_router.domain.policy import RoutingPolicy
from s8_router.settings import DEFAULT_POLICY
from s8_shared.data_files import load_model

DEFAULT_POLICY_PATH = DEFAULT_POLICY


def load_policy(path: Path = DEFAULT_POLICY_PATH) -> RoutingPolicy:
    """The policy at `path`; DataFileError (a ValueError) saying why if it cannot be used."""
    return load_model(path, RoutingPolicy)
