"""``synth.kernels``: a fresh kernel per notebook, kernels started ahead, none left behind.

Kernel processes are counted with psutil among the descendants of the process that ran the
notebooks; every wait is on a condition (a file written, a process count reached), with a
deadline, never a fixed sleep.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from conftest import ROOT, sigint_default
from jupyter_client import BlockingKernelClient

from synth.config import load_config, with_overrides
from synth.forkserver import forking_supported
from synth.kernels import KernelPool, PoolClosed, notebook_imports
from synth.runner import run
from synth.template import write_review

sys.path.insert(0, str(ROOT / "tools"))
from nbbuild import write_notebook  # noqa: E402

DEADLINE = 60.0

_PARAMS = '''
review: str = "../data/alpha"  # review folder
results_dir: str = "../results"  # where the notes go
'''

# Leaves state wherever a kernel can keep it: a variable, a module, rcParams, os.environ.
_DIRTY_NB = [
    ("params", _PARAMS),
    ("code", '''
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt

leaked = 42
json.synth_leak = True
plt.rcParams["lines.linewidth"] = 9.5
os.environ["SYNTH_TEST_LEAK"] = "1"
Path(results_dir).mkdir(parents=True, exist_ok=True)
Path(results_dir, "dirty.json").write_text(json.dumps({"pid": os.getpid()}))
'''),
]

# Looks for that state (and for any the warm-up of a notebook importing synth could leave); its
# first cell runs before its own imports.
_CLEAN_NB = [
    ("params", _PARAMS),
    ("code", 'names_before_imports = sorted(n for n in dir() if not n.startswith("_"))'),
    ("code", '''
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt

from synth import outputs

Path(results_dir).mkdir(parents=True, exist_ok=True)
Path(results_dir, "clean.json").write_text(json.dumps({
    "pid": os.getpid(), "names": names_before_imports,
    "leaked": "leaked" in globals(), "json_attribute": hasattr(json, "synth_leak"),
    "linewidth": plt.rcParams["lines.linewidth"], "env": os.environ.get("SYNTH_TEST_LEAK"),
    "cwd": os.getcwd(), "figures": plt.get_fignums(),
    "rc": [str(plt.rcParams[k]) for k in ("pdf.fonttype", "svg.fonttype", "font.family")],
    "rc_default": [str(plt.rcParamsDefault[k])
                   for k in ("pdf.fonttype", "svg.fonttype", "font.family")]}))
'''),
]

_FAILING_NB = [("params", _PARAMS), ("code", 'raise ValueError("on purpose")')]

# Writes its pid, then waits until the test removes the file (to be interrupted meanwhile).
_WAITING_NB = [
    ("params", _PARAMS),
    ("code", '''
import os
import time
from pathlib import Path

flag = Path(results_dir, "running")
flag.parent.mkdir(parents=True, exist_ok=True)
flag.write_text(str(os.getpid()))
while flag.exists():
    time.sleep(0.02)
'''),
]


def _project(tmp: Path, notebooks: dict[str, list[tuple[str, str]]], jobs: int = 1) -> Path:
    write_review(tmp / "data" / "alpha")  # a valid review: the runner checks it first
    (tmp / "notebooks").mkdir()
    for name, cells in notebooks.items():
        write_notebook(tmp / "notebooks" / name, cells)
    (tmp / "synth.yaml").write_text(f"jobs: {jobs}\n")
    return tmp


def _is_kernel(p: psutil.Process) -> bool:
    """Started as ``ipykernel_launcher``, or forked from the template (whose command line a
    forked kernel keeps)."""
    if "ipykernel_launcher" in " ".join(p.cmdline()):
        return True
    parent = p.parent()
    return (parent is not None and "synth.forkserver" in " ".join(p.cmdline())
            and "synth.forkserver" in " ".join(parent.cmdline()))


def _kernels(parent: psutil.Process) -> list[psutil.Process]:
    """Live kernel processes among the descendants of ``parent``."""
    out = []
    for p in parent.children(recursive=True):
        try:
            if _is_kernel(p) and p.status() != "zombie":
                out.append(p)
        except psutil.NoSuchProcess:
            continue
    return out


def _wait_for(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {DEADLINE:.0f} s for {what}")
        time.sleep(0.02)


def _gone(pids: list[int]) -> bool:
    def dead(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() == "zombie"
        except psutil.NoSuchProcess:
            return True
    return all(dead(pid) for pid in pids)


# --- imports to preload -----------------------------------------------------------------------

def test_notebook_imports_lists_modules_and_from_imports(tmp_path: Path):
    write_notebook(tmp_path / "n.ipynb", [
        ("md", "# import nothing here"),
        ("code", "import os, json as j\nfrom synth import outputs\nfrom . import x\n"
                 "from math import *\nif True:\n    import csv"),
        ("code", "%matplotlib inline\nimport decimal"),
    ])
    assert notebook_imports(tmp_path / "n.ipynb") == ("os", "json", "synth", "synth.outputs",
                                                       "math")


_WARM_UP_PROBE = """
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from synth.forkserver import preload
before = dict(plt.rcParams)
preload({modules!r})
print(json.dumps({{"loaded": [m in sys.modules for m in ("pingouin", "scipy.stats",
                                                         "statsmodels.stats.inter_rater",
                                                         "fontTools.subset", "openpyxl", "docx",
                                                         "pandas")],
                   "rc_changed": sorted(k for k, v in plt.rcParams.items()
                                        if str(before[k]) != str(v)),
                   "figures": plt.get_fignums()}}))
"""


@pytest.mark.parametrize(("modules", "warmed"), [(("synth", "synth.outputs"), True),
                                                 (("json",), False)], ids=["synth", "other"])
def test_a_notebook_importing_synth_gets_its_first_use_work_done_ahead(modules, warmed):
    """Modules synth imports on use, the PDF font subsetter and the table writers are loaded
    in advance, no setting or figure is left; a notebook that does not import synth gets only
    its imports."""
    out = subprocess.run([sys.executable, "-c", _WARM_UP_PROBE.format(modules=list(modules))],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    assert probe["loaded"] == [warmed] * len(probe["loaded"])
    assert probe["rc_changed"] == [] and probe["figures"] == []


# --- a fresh kernel for every notebook --------------------------------------------------------

@pytest.mark.parametrize(("warm", "fork"), [(True, True), (True, False), (False, False)],
                         ids=["forked", "warm", "cold"])
def test_no_state_carries_over_from_one_notebook_to_the_next(tmp_path: Path, warm: bool,
                                                             fork: bool, monkeypatch):
    if fork and not forking_supported():
        pytest.skip("kernels are forked on Linux only")
    monkeypatch.setattr("synth.kernels.forking_supported", lambda: fork)
    project = _project(tmp_path, {"01_dirty.ipynb": _DIRTY_NB, "02_clean.ipynb": _CLEAN_NB})
    config = with_overrides(load_config(project / "synth.yaml"), warm_kernels=warm)
    results = run(config)
    assert [r.ok for r in results] == [True, True], [r.describe() for r in results]
    dirty = json.loads((project / "results" / "dirty.json").read_text())
    clean = json.loads((project / "results" / "clean.json").read_text())
    assert clean["pid"] != dirty["pid"]
    assert {"review", "results_dir"} <= set(clean["names"])
    assert not {"json", "os", "Path", "plt", "matplotlib", "synth", "outputs"} & set(
        clean["names"])  # preloading
    # imports modules but binds no name
    assert not clean["leaked"] and not clean["json_attribute"] and clean["env"] is None
    assert clean["linewidth"] != 9.5
    assert clean["figures"] == [] and clean["rc"] == clean["rc_default"]  # the warm-up's figure
    assert Path(clean["cwd"]) == (project / "notebooks").resolve()
    executed = json.loads((project / "results" / "alpha" / "notebooks" / "02_clean.ipynb")
                          .read_text())
    counts = [c["execution_count"] for c in executed["cells"] if c["cell_type"] == "code"]
    assert counts[0] == 1  # the silent preload left no trace in the history


def test_the_next_kernel_is_started_and_loaded_before_it_is_taken(tmp_path: Path):
    pool = KernelPool([("json",), ("decimal",), ()], slots=1, cores=2)
    seen: list[dict] = []
    with pool:
        first = pool.take()
        _wait_for("the next two kernels to start", lambda: len(pool.alive) == 3)
        assert first.pid is not None
        pool.release(first)
        second = pool.take()
        kc = BlockingKernelClient()
        kc.load_connection_info(second.km.get_connection_info())
        kc.start_channels()
        try:
            reply = kc.execute_interactive(
                "import sys; print('decimal' in sys.modules, 'json' in dir())", timeout=30,
                output_hook=lambda msg: seen.append(msg))
        finally:
            kc.stop_channels()
        assert reply["content"]["status"] == "ok"
        assert [m["content"]["text"].strip() for m in seen
                if m["msg_type"] == "stream"] == ["True False"]
        pool.release(second)
        pool.release(pool.take())
        with pytest.raises(PoolClosed):  # three jobs, three kernels
            pool.take()
    assert not pool.alive



def test_with_two_slots_two_kernels_run_and_three_more_start(tmp_path: Path):
    with KernelPool([()] * 7, slots=2, cores=4) as pool:
        _wait_for("three kernels", lambda: len(pool.alive) == 3)
        a, b = pool.take(), pool.take()
        _wait_for("five kernels", lambda: len(pool.alive) == 5)
        assert len({a.pid, b.pid}) == 2
        assert len(pool.alive) == 5  # no more: two execute, three wait
    assert not pool.alive
    assert not _kernels(psutil.Process())


def test_without_a_free_core_no_kernel_starts_ahead(tmp_path: Path):
    """With as many slots as cores, kernels warming ahead would slow the notebooks executing:
    each starts when it is taken (unless forked: nothing is left to import)."""
    with KernelPool([("json",)] * 3, slots=2, cores=2, fork=False) as pool:
        assert not pool.alive
        first = pool.take()
        assert pool.alive == [first]
    assert not _kernels(psutil.Process())


# --- no kernel is left behind -----------------------------------------------------------------

def test_no_kernel_is_left_after_a_normal_and_a_failing_run(tmp_path: Path):
    me = psutil.Process()
    project = _project(tmp_path, {"01_dirty.ipynb": _DIRTY_NB, "02_fails.ipynb": _FAILING_NB,
                                  "03_clean.ipynb": _CLEAN_NB}, jobs=2)
    peak: list[int] = []
    results = run(load_config(project / "synth.yaml"),
                  on_result=lambda r: peak.append(len(_kernels(me))))
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].error == "ValueError: on purpose"
    assert max(peak) <= 3  # three notebooks: two executing, the third warming up
    assert not _kernels(me)


def test_no_kernel_is_left_when_the_run_is_interrupted_between_notebooks(tmp_path: Path):
    me = psutil.Process()
    project = _project(tmp_path, {"01_dirty.ipynb": _DIRTY_NB, "02_clean.ipynb": _CLEAN_NB,
                                  "03_fails.ipynb": _FAILING_NB})

    def interrupt(result) -> None:
        assert _kernels(me)  # the next one is warming up
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(load_config(project / "synth.yaml"), on_result=interrupt)
    assert not _kernels(me)


def _waiting(flag: str) -> list[tuple[str, str]]:
    return [(kind, text.replace('"running"', repr(flag))) for kind, text in _WAITING_NB]


@pytest.mark.parametrize("jobs", [1, 2])
def test_no_kernel_is_left_when_ctrl_c_stops_a_notebook(tmp_path: Path, jobs: int):
    """Ctrl-C while ``jobs`` notebooks execute and the next ones' kernels warm up."""
    waiting = {f"0{n}_waits.ipynb": _waiting(f"running-{n}") for n in range(1, jobs + 1)}
    project = _project(tmp_path, {**waiting, "08_clean.ipynb": _CLEAN_NB,
                                  "09_dirty.ipynb": _DIRTY_NB}, jobs=jobs)
    proc = subprocess.Popen([sys.executable, "-m", "synth", "run", "--config",
                             str(project / "synth.yaml")], cwd=project,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=sigint_default)
    parent = psutil.Process(proc.pid)
    flags = [project / "results" / f"running-{n}" for n in range(1, jobs + 1)]
    try:
        _wait_for("the notebooks to run", lambda: all(f.exists() for f in flags))
        # forked kernels start ahead; others need a core left free
        ahead = jobs + 1 if forking_supported() or jobs < (os.cpu_count() or 1) else 0
        _wait_for("the next kernels to start",
                  lambda: len(_kernels(parent)) == min(jobs + ahead, jobs + 2))
        pids = [k.pid for k in _kernels(parent)]
        assert {int(f.read_text()) for f in flags} <= set(pids)  # and those warming up
        os.kill(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, out
    assert "interrupted" in out and "Traceback" not in out
    _wait_for("the kernels to exit", lambda: _gone(pids))
