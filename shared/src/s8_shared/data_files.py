"""One loader for the YAML data s8 ships and operators override (rules, policies, limits,
lexicons, calendars): read at the edges (a service's `app.py`, a config adapter), validated
into a Pydantic model, so domain modules take models and read no files."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

# A data file is an operator's configuration, not customer input, but it is still bounded:
# a mistaken path to a large file fails at start with a reason instead of exhausting memory.
MAX_DATA_FILE_BYTES = 4 * 1024 * 1024


class DataFileError(ValueError):
    """A data file that cannot be read, is not YAML or does not fit its model."""


def read_yaml(path: Path) -> Any:
    """The YAML document at `path` (an empty file is None)."""
    try:
        size = path.stat().st_size
        if size > MAX_DATA_FILE_BYTES:
            raise DataFileError(f"{path}: {size} bytes, above {MAX_DATA_FILE_BYTES}")
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataFileError(f"{path}: cannot be read: {exc}") from None
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{path}: not UTF-8: {exc}") from None
    except yaml.YAMLError as exc:
        raise DataFileError(f"{path}: not valid YAML: {exc}") from None


def load_model(path: Path, model: type[M], *, empty: Any = None) -> M:
    """The YAML document at `path` validated as `model`; `empty` stands for an empty file."""
    raw = read_yaml(path)
    try:
        return model.model_validate(empty if raw is None else raw)
    except ValidationError as exc:
        raise DataFileError(f"{path}: invalid {model.__name__}: {exc}") from None
