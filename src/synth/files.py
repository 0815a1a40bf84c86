"""Files: the one atomic writer, the clean-up after a killed run, and the output formats.

Every file synth writes (figures, tables, the run manifest) goes to a temporary name in the
target's folder and is moved into place with ``os.replace`` only when complete, so a failed or
interrupted run never leaves a half-written file and never loses the last good one. This module
imports nothing heavy, so the runner can use it without loading pandas or matplotlib.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "FIGURE_FORMATS",
    "FIGURE_FORMAT_CHOICES",
    "TABLE_FORMATS",
    "TABLE_FORMAT_CHOICES",
    "READABLE_FORMATS",
    "MACHINE_FORMATS",
    "RUN_CONTEXT_ENV",
    "atomic_path",
    "atomic_paths",
    "atomic_write",
    "atomic_write_text",
    "make_readable",
    "remove_leftover_temporaries",
]

FIGURE_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
"""Default figure formats: PNG for screens and submission systems, SVG and PDF as vector."""

FIGURE_FORMAT_CHOICES: tuple[str, ...] = ("png", "pdf", "svg", "eps", "tiff", "tif", "jpg",
                                          "jpeg")
"""Figure formats ``synth.yaml`` accepts."""

TABLE_FORMATS: tuple[str, ...] = ("csv", "md", "tex", "html")
"""Default table formats: CSV (data), Markdown, LaTeX (booktabs) and HTML (opens in Word)."""

TABLE_FORMAT_CHOICES: tuple[str, ...] = ("csv", "md", "tex", "html", "xlsx", "docx")
"""Every table format synth writes."""

MACHINE_FORMATS: tuple[str, ...] = ("csv", "xlsx")
"""Table formats read by programs: numbers at full precision, never rounded."""

READABLE_FORMATS: tuple[str, ...] = ("md", "tex", "html", "docx")
"""Table formats read by people: numbers rounded for display."""

RUN_CONTEXT_ENV = "SYNTH_RUN_CONTEXT"
"""Environment variable naming the JSON run context that ``synth run`` gives each notebook."""

_TEMPORARY_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.[A-Za-z0-9]+$")
"""The names :func:`atomic_path` gives its temporary files
(``.<stem>.<8 random characters>.<suffix>``, from :func:`tempfile.mkstemp`)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def make_readable(path: str | Path) -> None:
    """Give a temporary file (created 0600) the permissions a new file would get."""
    os.chmod(path, 0o666 & ~_umask())


@contextmanager
def atomic_paths(targets: Iterable[str | Path]) -> Iterator[list[Path]]:
    """Yield one temporary path beside each target; move them all into place only on success.

    The set is written all or none: if anything fails (an interrupt included) before the moves,
    every temporary file is removed and every target is left as it was. This is synth's one
    atomic writer; :func:`atomic_path` is the single-file case.
    """
    targets = [Path(t) for t in targets]
    temps: list[Path] = []
    try:
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix or ".tmp",
                                       dir=target.parent)
            os.close(fd)
            temps.append(Path(tmp))
        yield list(temps)
        for tmp in temps:
            make_readable(tmp)
        folders = [t for t in targets if t.is_dir()]
        if folders:
            raise IsADirectoryError(f"{folders[0]}: a folder is in the way; none of "
                                    f"{', '.join(t.name for t in targets)} was written")
        _replace_all(temps, targets)
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)


def _replace_all(temps: list[Path], targets: list[Path]) -> None:
    """Move each temporary file onto its target; if one move fails, put back the targets
    already replaced (from hard-linked copies), so that the set stays as it was."""
    backups: dict[Path, Path | None] = {}
    try:
        for target in targets:
            backup = None
            if target.exists():
                fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix
                                            or ".tmp", dir=target.parent)
                os.close(fd)
                backup = Path(name)
                backup.unlink()
                try:
                    os.link(target, backup)
                except OSError:  # a file system without hard links
                    shutil.copy2(target, backup)
            backups[target] = backup
        done: list[Path] = []
        try:
            for tmp, target in zip(temps, targets, strict=True):
                os.replace(tmp, target)
                done.append(target)
        except BaseException:
            for target in done:
                if backups[target] is not None:
                    os.replace(backups[target], target)
                else:
                    target.unlink(missing_ok=True)
            raise
    finally:
        for backup in backups.values():
            if backup is not None:
                backup.unlink(missing_ok=True)


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it onto ``target`` only on success."""
    with atomic_paths([target]) as (tmp,):
        yield tmp


def atomic_write(target: str | Path, writer: Callable[[Path], None]) -> Path:
    """Call ``writer(tmp)`` on a temporary path and move the result onto ``target``."""
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


def atomic_write_text(target: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    return atomic_write(target, lambda p: p.write_text(text, encoding="utf-8"))


def remove_leftover_temporaries(folder: str | Path) -> list[Path]:
    """Delete the temporary files a killed run left in ``folder``; return what was deleted.

    A process killed outright cannot remove its temporary files; the finished files beside
    them are intact. Call only when no other run writes to ``folder``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    leftovers = [p for p in folder.iterdir() if p.is_file() and _TEMPORARY_NAME.match(p.name)]
    for path in leftovers:
        path.unlink(missing_ok=True)
    return leftovers
