"""synth.files: one atomic writer (all or none) and the clean-up after a killed run."""

from __future__ import annotations

import os
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


def test_a_folder_in_the_way_of_one_format_leaves_the_whole_set_as_it_was(tmp_path: Path):
    targets = [tmp_path / f"fig.{fmt}" for fmt in ("png", "svg", "pdf")]
    for target in targets:
        target.write_text("old")
    targets[1].unlink()
    targets[1].mkdir()  # fig.svg is a folder: its move would fail after fig.png's
    message = "fig.svg: a folder is in the way; none of fig.png, fig.svg, fig.pdf was written"
    with pytest.raises(IsADirectoryError, match=message), atomic_paths(targets) as temps:
        for tmp in temps:
            tmp.write_text("new")
    assert [targets[0].read_text(), targets[2].read_text()] == ["old", "old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.pdf", "fig.png", "fig.svg"]


def test_a_move_that_fails_in_the_middle_puts_back_the_targets_already_moved(
        tmp_path: Path, monkeypatch):
    targets = [tmp_path / f"fig.{fmt}" for fmt in ("png", "svg", "pdf")]
    targets[0].write_text("old")  # fig.svg and fig.pdf do not exist yet
    real_replace = os.replace

    def failing(src, dst):
        if Path(dst).name == "fig.pdf":
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(OSError, match="disk full"), atomic_paths(targets) as temps:
        for tmp in temps:
            tmp.write_text("new")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png"]
    assert targets[0].read_text() == "old"
