"""Kernels forked from a template process that has already imported what the notebooks import.

A kernel started the usual way (``python -m ipykernel_launcher``) spends about 2.5 s of CPU
starting IPython and importing pandas, matplotlib, statsmodels and synth before its notebook's
first cell. The warm pool (:mod:`synth.kernels`) hides that time on a free core; with as many
notebooks executing as there are cores there is no free core, and every kernel's imports come
out of the notebooks' time. On Linux the pool therefore starts one *template* process that
imports, once, the modules the run's notebooks import (and does synth's first-use work,
:func:`synth.warm_up`), and forks it for each kernel: the child becomes an ipykernel on the
connection file jupyter_client wrote, in the working directory and with the environment
jupyter_client asked for. A fork costs milliseconds; the imported modules are shared
copy-on-write.

Each kernel is still fresh: the template runs no notebook code and binds no name, and a child
is forked before anything of a kernel exists (no shell, socket or history), so nothing passes
from one notebook to another; numpy's global random state is reseeded in each child, as a
freshly started kernel would seed it (Python's ``random`` reseeds itself after a fork). What a
notebook can tell apart is only that modules other notebooks of the run import are already
loaded.

Written by hand: papermill's users ask for kernel reuse (papermill #583), and jupyter_client
launches a kernel only through ``subprocess.Popen``; :func:`fork_provisioner` is a
jupyter_client provisioner whose "process" is a forked child. The template reads one JSON line
per request from a socket it shares with the runner and answers with one; when the runner
closes the socket (or dies), it kills the kernels it forked and exits.

Not used where forking is unsafe or unknown: only on Linux (macOS's system frameworks do not
survive a fork without exec), only for kernels that run ``ipykernel_launcher``, and not when an
imported module started a thread or loaded matplotlib's inline backend (outside a shell, it
would not hook figures into the kernels' shells). Then each kernel starts the usual way.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["ForkServer", "ForkServerClosed", "ForkUnavailable", "ForkedProcess",
           "fork_provisioner", "forking_supported", "kernel_python", "preload"]

_LAUNCHER = ["-m", "ipykernel_launcher"]
"""How a kernel spec runs the ipykernel kernel (``python -m ipykernel_launcher -f ...``)."""

_INLINE = "module://matplotlib_inline.backend_inline"
"""The backend ipykernel sets (``MPLBACKEND``) before a notebook imports matplotlib."""

_POLL_SECONDS = 0.2
"""How often a wait for the template checks whether the server was closed meanwhile."""


class ForkUnavailable(RuntimeError):
    """The template could not be started or loaded; kernels start the usual way."""


class ForkServerClosed(ForkUnavailable):
    """The template was closed (the pool closed): no kernel is started at all."""


def forking_supported() -> bool:
    """Whether kernels may be forked here (Linux, with ``os.fork``)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def preload(modules: Iterable[str]) -> None:
    """Import modules, binding no name; a name that is no module is skipped.

    When one of them is synth, :func:`synth.warm_up` then does the first-use work a
    notebook's first cells would otherwise wait for. This runs in a kernel or in the template,
    never in the runner's process.
    """
    import importlib

    modules = list(modules)
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    if any(name.split(".")[0] == "synth" for name in modules):
        importlib.import_module("synth").warm_up()


# --- the template process ---------------------------------------------------------------------

def _send(sock: socket.socket, message: Mapping[str, Any]) -> None:
    sock.sendall(json.dumps(message).encode() + b"\n")


def _load(modules: Sequence[str]) -> str | None:
    """Import what a kernel would, then ``modules``; why forking is unsafe, or None.

    Warnings are not shown: a warm kernel's preload shows none either (a notebook importing a
    module already imported gets no warning from it).
    """
    os.environ.setdefault("MPLBACKEND", _INLINE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import ipykernel.ipkernel  # noqa: F401  what ipykernel_launcher imports
            import ipykernel.kernelapp  # noqa: F401
            preload(modules)
    except Exception as exc:  # a module failing on import fails its notebook, not the pool
        return f"{type(exc).__name__}: {exc}"
    if threading.active_count() > 1:
        return "an imported module started a thread"
    if "matplotlib_inline.backend_inline" in sys.modules:
        # imported outside a shell, it would not hook figures into the kernels' shells
        return "matplotlib's inline backend was loaded"
    return None


def _become_kernel(request: Mapping[str, Any], sock: socket.socket) -> None:
    """In the forked child: run ipykernel as ``python -m ipykernel_launcher`` would; never
    returns."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()  # a process group of its own, as jupyter_client starts kernels
        os.close(sock.detach())  # the runner sees the template's end close with the template
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        if "numpy.random" in sys.modules:
            sys.modules["numpy.random"].seed()
        import ipykernel_launcher
        from ipykernel import kernelapp

        # ipykernel read JPY_PARENT_PID when the template imported it: the child is told its
        # parent, the template, here, and exits when the template is gone.
        argv = [*request["argv"], f"--IPKernelApp.parent_handle={os.getppid()}"]
        sys.argv = [str(ipykernel_launcher.__file__), *argv]
        kernelapp.launch_new_instance(argv=argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def _requests(lines: Iterable[str]) -> Iterator[str]:
    """The runner's requests until it closes the socket (or dies)."""
    try:
        yield from lines
    except OSError:
        return


def serve(fd: int) -> None:
    """The template's main loop, on the socket ``fd`` it shares with the runner.

    First request ``{"modules": [...]}``: import them, answer ``{"error": null}`` or why
    forking is unsafe. Then one ``{"argv", "cwd", "env"}`` per kernel: fork it, answer
    ``{"pid": N}``. At the end of the socket, kill every kernel forked, and exit.
    """
    if sys.path and sys.path[0] in ("", os.getcwd()):  # as ipykernel_launcher does
        del sys.path[0]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner handles Ctrl-C
    sock = socket.socket(fileno=fd)
    lines = sock.makefile("r", encoding="utf-8")
    try:
        first = lines.readline()
        if not first:
            return
        error = _load(json.loads(first)["modules"])
        _send(sock, {"error": error})
    except OSError:  # the runner closed the socket (the pool closed) before the answer
        return
    if error is not None:
        return
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped as they exit
    # What the template imported is never collected: kept out of the collector, a child's
    # collections neither walk it nor copy its pages (CPython's advice for forking servers).
    gc.freeze()
    children: list[int] = []
    try:
        for line in _requests(lines):
            request = json.loads(line)
            with warnings.catch_warnings():
                # Python 3.12+ warns of forking with threads; the only ones here are BLAS
                # workers (checked above: no Python thread), re-created by their library's
                # fork handlers.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
            if pid == 0:
                _become_kernel(request, sock)
            children.append(pid)
            try:
                _send(sock, {"pid": pid})
            except OSError:  # the runner is gone: so are the kernels
                break
    finally:
        me = os.getpid()
        for pid in children:
            if _parent(pid) != me:  # exited (and reaped): the pid may be another's by now
                continue
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                    break
                except OSError:
                    continue
        os._exit(0)  # nothing to save: skip tearing down every module the template imported


# --- the runner's side ------------------------------------------------------------------------

def _parent(pid: int) -> int | None:
    """The parent of a live process (None: no such process, or a zombie)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else int(fields[1])


class ForkedProcess:
    """A forked kernel as jupyter_client's provisioner uses a ``Popen``: pid, poll, wait,
    signals. It is the template's child, not ours: it counts as running while it is alive
    and the template's child (after that, its pid may be another process's)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, parent: int) -> None:
        self.pid = pid
        self.parent = parent
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and _parent(self.pid) != self.parent:
            self.returncode = 0  # its exit status went to the template, which reaped it
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0.0)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkServer:
    """The template process, started at once; :meth:`spawn` forks a kernel from it.

    Parameters
    ----------
    python
        The kernels' Python (their kernel spec's ``argv[0]``).
    modules
        What the template imports: every module the run's notebooks import.
    cwd, env
        The template's working directory and environment (the kernels get their own).
    timeout
        Seconds the template may take to import ``modules``.
    """

    def __init__(self, python: str, modules: Sequence[str], *, cwd: str | None = None,
                 env: Mapping[str, str] | None = None, timeout: float = 60.0) -> None:
        ours, theirs = socket.socketpair()
        self._lock = threading.Lock()
        self._closed = False
        self._ready: bool | None = None
        self._why = ""
        self._buffer = b""
        self._timeout = timeout
        self._sock = ours
        try:
            self._process = subprocess.Popen(
                [python, "-c", "import sys; from synth.forkserver import serve; "
                 "serve(int(sys.argv[1]))", str(theirs.fileno())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, cwd=cwd,
                env=dict(env if env is not None else os.environ), start_new_session=True)
        finally:
            theirs.close()
        _send(self._sock, {"modules": list(modules)})

    @property
    def pid(self) -> int:
        """The template's process id."""
        return self._process.pid

    def _reply(self, timeout: float) -> dict[str, Any]:
        """The template's next answer; waits in short polls so :meth:`close` ends the wait."""
        deadline = time.monotonic() + timeout
        self._sock.settimeout(_POLL_SECONDS)
        while b"\n" not in self._buffer:
            if self._closed:
                raise ForkServerClosed("the kernel template was closed")
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise ForkUnavailable(f"the kernel template did not answer within "
                                          f"{timeout:g} s") from None
                continue
            except OSError as exc:
                raise ForkUnavailable(f"the kernel template is gone: {exc}") from None
            if not chunk:
                raise ForkUnavailable("the kernel template exited")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def _wait_ready(self) -> None:
        if self._ready is None:
            try:
                error = self._reply(self._timeout)["error"]
            except ForkServerClosed:
                raise
            except ForkUnavailable as exc:
                error = str(exc)
            self._ready, self._why = error is None, error or ""
        if not self._ready:
            raise ForkUnavailable(f"kernels are not forked: {self._why}")

    def spawn(self, argv: Sequence[str], *, cwd: str, env: Mapping[str, str]) -> int:
        """Fork a kernel running ``ipykernel_launcher`` with ``argv``; its pid.

        Raises
        ------
        ForkUnavailable
            The template failed to load, exited, or was closed: start the kernel the usual way.
        """
        with self._lock:
            self._wait_ready()
            try:
                _send(self._sock, {"argv": list(argv), "cwd": str(cwd), "env": dict(env)})
                return int(self._reply(self._timeout)["pid"])
            except ForkServerClosed:
                raise
            except (OSError, ForkUnavailable) as exc:  # no more forks from this template
                self._ready, self._why = False, str(exc)
                raise ForkUnavailable(f"kernels are not forked: {exc}") from None

    def close(self) -> None:
        """Stop the template; it kills every kernel it forked. Safe to call twice."""
        self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        with self._lock:
            self._sock.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def kernel_python(kernel_name: str) -> str | None:
    """The Python of a kernel spec that runs ``ipykernel_launcher`` (else None: not forked)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv = KernelSpecManager().get_kernel_spec(kernel_name).argv
    except NoSuchKernel:
        return None
    if argv[1:3] != _LAUNCHER:
        return None
    major, minor = sys.version_info[:2]
    if argv[0] in ("python", f"python{major}", f"python{major}.{minor}"):
        return sys.executable  # as jupyter_client's KernelManager.format_kernel_cmd does
    return argv[0]


def fork_provisioner(server: ForkServer) -> type:
    """A jupyter_client provisioner class whose kernels ``server`` forks (or, when it cannot,
    start as usual)."""
    from jupyter_client.provisioning import LocalProvisioner

    class ForkProvisioner(LocalProvisioner):  # type: ignore[misc]
        async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
            if cmd[1:3] != _LAUNCHER:
                return await super().launch_kernel(cmd, **kwargs)
            cwd = str(kwargs.get("cwd") or os.getcwd())
            try:
                pid = server.spawn(cmd[3:], cwd=cwd, env=kwargs.get("env") or os.environ)
            except ForkServerClosed:
                raise
            except ForkUnavailable:
                return await super().launch_kernel(cmd, **kwargs)
            self.process = ForkedProcess(pid, server.pid)
            self.pid = self.pgid = pid  # the child makes itself a process group leader
            self.cwd = cwd
            return self.connection_info

        async def send_signal(self, signum: int) -> None:
            if not isinstance(self.process, ForkedProcess):
                return await super().send_signal(signum)
            if self.process.poll() is not None:  # its pid may be another process's
                return
            try:
                os.killpg(self.pgid, signum)  # the kernel and what its notebook started
            except OSError:  # not yet a group leader
                self.process.send_signal(signum)

    return ForkProvisioner
