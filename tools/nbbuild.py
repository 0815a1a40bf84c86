"""Write a notebook from a list of cells, without outputs (used to author notebooks/*.ipynb).

Usage from Python: ``write_notebook(path, [("md", text), ("params", code), ("code", code)])``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat


def write_notebook(path: str | Path, cells: list[tuple[str, str]]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for kind, text in cells:
        text = text.strip("\n")
        if kind == "md":
            cell = nbformat.v4.new_markdown_cell(text)
        else:
            cell = nbformat.v4.new_code_cell(text)
            if kind == "params":
                cell.metadata["tags"] = ["parameters"]
        cell.pop("id", None)
        nb.cells.append(cell)
    nb.nbformat_minor = 4
    Path(path).write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
