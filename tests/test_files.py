"""synth.files: one atomic writer (all or none) and the clean-up after a killed run."""

from __future__ import annotations

from pathlib import Path

import pytest

from synth.files import (
    atomic_path,
    atomic_paths,
    atomic_write_text,
    remove_leftover_temporaries,
)


def test_atomic_write_replaces_the_file_only_when_complete(tmp_path: Path):
    target = tmp_path / "sub" / "table.csv"
    atomic_write_text(target, "a\n1\n")
    assert target.read_text() == "a\n1\n"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "a\n1\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["table.csv"]


def test_a_set_of_files_is_written_all_or_none(tmp_path: Path):
    targets = [tmp_path / "f.png", tmp_path / "f.pdf"]
    for t in targets:
        t.write_text("old " + t.suffix)
    with pytest.raises(KeyboardInterrupt), atomic_paths(targets) as temps:
        temps[0].write_text("new png")
        raise KeyboardInterrupt
    assert [t.read_text() for t in targets] == ["old .png", "old .pdf"]
    with atomic_paths(targets) as temps:
        for tmp in temps:
            tmp.write_text("new")
    assert [t.read_text() for t in targets] == ["new", "new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.pdf", "f.png"]


def test_leftover_temporaries_are_recognised_by_name_only(tmp_path: Path):
    names = [".forest_grade.a1b2c3d4.png", ".auc_pooled.zz_99xyz.tex", ".gitkeep", "forest.png",
             ".notes.txt", ".x.TOOLONG12.png"]
    for name in names:
        (tmp_path / name).write_text("")
    removed = remove_leftover_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == [".auc_pooled.zz_99xyz.tex",
                                                ".forest_grade.a1b2c3d4.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[2:])
    assert remove_leftover_temporaries(tmp_path / "missing") == []


def test_the_clean_up_knows_every_temporary_name_the_writer_makes(tmp_path: Path):
    """What a run killed mid-write leaves (its temporaries) is what the next run removes."""
    with atomic_paths([tmp_path / "manifest.json", tmp_path / "forest.png",
                       tmp_path / "notes"]) as temps:
        for tmp in temps:
            tmp.write_text("partial")
        assert sorted(remove_leftover_temporaries(tmp_path)) == sorted(temps)
        for tmp in temps:
            tmp.write_text("complete")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forest.png", "manifest.json", "notes"]
