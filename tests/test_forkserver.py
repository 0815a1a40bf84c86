"""``synth.forkserver``: kernels forked from a template are fresh, die with it, and are not
forked when forking is unsafe.

Every wait is on a condition with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from jupyter_client import BlockingKernelClient
from test_kernels import _CLEAN_NB, _gone, _kernels, _project, _wait_for, _waiting

from synth.files import RUN_CONTEXT_ENV
from synth.forkserver import ForkedProcess, forking_supported, kernel_python
from synth.kernels import KernelPool

pytestmark = pytest.mark.skipif(not forking_supported(), reason="kernels are forked on Linux")


def _ask(kernel, code: str) -> dict:
    """Run ``code`` in a kernel; the JSON it prints."""
    out: list[str] = []
    kc = BlockingKernelClient()
    kc.load_connection_info(kernel.km.get_connection_info())
    kc.start_channels()
    try:
        reply = kc.execute_interactive(code, timeout=30, output_hook=lambda m: out.append(
            m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
    finally:
        kc.stop_channels()
    assert reply["content"]["status"] == "ok", reply["content"]
    return json.loads("".join(out))


_PROBE = f"""
import json, os, sys, numpy as np
print(json.dumps({{'pid': os.getpid(), 'ppid': os.getppid(), 'cwd': os.getcwd(),
    'context': os.environ.get({RUN_CONTEXT_ENV!r}), 'random': np.random.rand(),
    'pandas': 'pandas' in sys.modules, 'names': [n for n in dir() if n[0] != '_']}}))
"""


def test_forked_kernels_are_fresh_with_their_own_directory_environment_and_random_state(
        tmp_path: Path):
    with KernelPool([("numpy",), ("pandas",)], slots=1, cwd=tmp_path, fork=True) as pool:
        assert pool.forked
        first, second = pool.take(), pool.take()
        answers = [_ask(k, _PROBE) for k in (first, second)]
        template = pool._server.pid
        assert isinstance(first.km.provisioner.process, ForkedProcess)
    a, b = answers
    assert a["ppid"] == b["ppid"] == template and a["pid"] != b["pid"]
    assert Path(a["cwd"]) == Path(b["cwd"]) == tmp_path
    assert a["context"] != b["context"] and a["context"] == str(first.context_path)
    assert a["random"] != b["random"]  # numpy reseeded in each child, as in a new process
    assert a["pandas"]  # the template imported every job's modules
    assert "np" in a["names"] and a["names"] == b["names"]  # only what the probe bound
    assert not psutil.pid_exists(template) or psutil.Process(template).status() == "zombie"
    assert not _kernels(psutil.Process())


def test_forked_kernels_exit_when_the_template_dies(tmp_path: Path):
    pool = KernelPool([("json",)] * 2, slots=1, cwd=tmp_path, fork=True)
    try:
        kernel = pool.take()
        _wait_for("the next kernel", lambda: len(pool.alive) == 2)
        pids = [k.pid for k in pool.alive]
        os.kill(pool._server.pid, signal.SIGKILL)
        _wait_for("the forked kernels to exit", lambda: _gone(pids))
        assert kernel.km.provisioner.process.poll() is not None
    finally:
        pool.close()


def test_kernels_start_the_usual_way_when_an_import_starts_a_thread(tmp_path: Path,
                                                                    monkeypatch):
    (tmp_path / "threaded.py").write_text(
        "import threading\nthreading.Thread(target=threading.Event().wait, daemon=True).start()\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), *sys.path]))
    with KernelPool([("threaded",)], slots=1, cwd=tmp_path, fork=True) as pool:
        kernel = pool.take()
        assert not isinstance(kernel.km.provisioner.process, ForkedProcess)
        assert "ipykernel_launcher" in " ".join(psutil.Process(kernel.pid).cmdline())
        assert _ask(kernel, "import json; print(json.dumps(1))") == 1


def test_a_kernel_spec_not_running_ipykernel_is_not_forked(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    spec = tmp_path / "kernels" / "other"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "other_kernel", "-f", "{connection_file}"],
        "display_name": "other", "language": "python"}))
    assert kernel_python("other") is None
    assert kernel_python("no-such-kernel") is None
    assert kernel_python("python3") == sys.executable


def test_forked_kernels_exit_when_the_runner_is_killed(tmp_path: Path):
    """No close, no Ctrl-C: the template sees the runner's end of its socket close, kills the
    kernels it forked, and exits."""
    project = _project(tmp_path, {"01_waits.ipynb": _waiting("running"),
                                  "02_clean.ipynb": _CLEAN_NB})
    proc = subprocess.Popen([sys.executable, "-m", "synth", "run", "--config",
                             str(project / "synth.yaml")], cwd=project,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runner = psutil.Process(proc.pid)
    try:
        _wait_for("the notebook to run", (project / "results" / "running").exists)
        _wait_for("the next kernel", lambda: len(_kernels(runner)) >= 2)
        pids = [p.pid for p in runner.children(recursive=True)]  # template and kernels
        proc.kill()
        proc.wait()
        _wait_for("the template and its kernels to exit", lambda: _gone(pids))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_forked_process_counts_as_running_only_while_it_is_the_template_s_child():
    """After a kernel exits, its pid may be given to another process: that one is never
    signalled as the kernel."""
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    try:
        ours = ForkedProcess(child.pid, os.getpid())
        assert ours.poll() is None
        assert ForkedProcess(child.pid, child.pid + 1).poll() == 0  # not that parent's child
        ours.kill()
        child.wait()  # reaped, as the template reaps its kernels
        assert ours.poll() == 0 and ours.wait(timeout=5) == 0
        ours.kill()  # nothing to signal: no error
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
