import os
from pathlib import Path

from s8_intake.adapters.rules_file import ReloadingFile


def write(path: Path, text: str, mtime_ns: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(mtime_ns, mtime_ns))


def parse(path: Path) -> int:
    return int(path.read_text(encoding="utf-8"))


def test_a_changed_file_is_reloaded_without_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "rules.txt"
    write(path, "1", 1_000_000_000)
    rules = ReloadingFile(path, parse, check_every_s=0)
    assert rules.get() == 1
    write(path, "2", 2_000_000_000)
    assert rules.get() == 2


def test_a_broken_edit_keeps_the_last_good_version_and_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "rules.txt"
    write(path, "1", 1_000_000_000)
    rules = ReloadingFile(path, parse, check_every_s=0)
    write(path, "not a number", 2_000_000_000)
    assert rules.get() == 1
    assert rules.reload_errors == 1
    write(path, "3", 3_000_000_000)
    assert rules.get() == 3
