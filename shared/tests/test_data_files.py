from pathlib import Path

import pytest
from pydantic import BaseModel

from s8_shared.data_files import DataFileError, load_model, read_yaml


class Limits(BaseModel):
    currency: str
    cap: int


def test_load_model_validates_the_yaml_document_into_the_model(tmp_path: Path) -> None:
    path = tmp_path / "limits.yaml"
    path.write_text("currency: VND\ncap: 500000\n", encoding="utf-8")
    assert load_model(path, Limits) == Limits(currency="VND", cap=500000)


def test_an_invalid_document_names_the_file_and_the_model(tmp_path: Path) -> None:
    path = tmp_path / "limits.yaml"
    path.write_text("currency: VND\ncap: lots\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"limits\.yaml: invalid Limits"):
        load_model(path, Limits)


def test_broken_yaml_and_missing_files_are_data_file_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1, 2\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="not valid YAML"):
        read_yaml(broken)
    with pytest.raises(DataFileError, match="cannot be read"):
        read_yaml(tmp_path / "missing.yaml")


def test_an_empty_file_stands_for_the_given_empty_document(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    assert read_yaml(path) is None
    with pytest.raises(DataFileError):
        load_model(path, Limits)

    class Many(BaseModel):
        items: list[int] = []

    assert load_model(path, Many, empty={}) == Many()


def test_a_file_above_the_bound_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (4 * 1024 * 1024 + 1))
    with pytest.raises(DataFileError, match="above"):
        read_yaml(path)
