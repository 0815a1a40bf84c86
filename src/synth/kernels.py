"""A warm kernel pool: the next notebook's kernel starts, with its imports loaded, in advance.

Starting a Jupyter kernel and importing pandas, matplotlib, statsmodels and synth takes about
3 s a notebook. :class:`KernelPool` starts the kernels of the jobs after those that are
executing (one per parallel job, and one more) and loads, silently, the modules each job's
notebook imports; the runner hands a ready kernel manager to papermill (nbclient executes a
notebook on a kernel manager it is given: ``km=``). The time left on the critical path is the
hand-over, not the start-up.

Every notebook still gets a kernel of its own: a kernel is used once and then killed, so no
variable, figure or setting carries over from one notebook to the next. Preloading imports
modules and binds no name in the notebook's namespace (the code runs silently, without
history), so the notebook sees what a freshly started kernel would after its own imports.

Kernels never outlive the pool: :meth:`KernelPool.close` (also on leaving a ``with`` block,
which covers a failing notebook and Ctrl-C) kills the kernels that execute, those that are
warming up and those still being started; a kernel whose runner dies without closing exits by
itself, as ipykernel stops when its parent process is gone.

Each kernel is started with ``SYNTH_RUN_CONTEXT`` naming a file of its own; the runner writes
the job's context there before handing the kernel over (:meth:`WarmKernel.set_context`), as
:mod:`synth.outputs` reads the file each time it saves.

Besides the imports, a kernel whose notebook imports synth does the first-use work the notebook
would otherwise wait for in its first cells (:func:`synth.warm_up`: modules synth imports on
use, pandera's backends, the fonts and writers of the first figure and table saved).

On Linux the kernels are forked from a template process that has done those imports and that
work once (:mod:`synth.forkserver`), so a kernel costs milliseconds instead of about 2.5 s of
CPU, and kernels start ahead even when every core executes a notebook. Elsewhere, or when the
template cannot be used, each kernel starts and imports by itself.

This module imports jupyter_client only when a pool starts; pandas and matplotlib are imported
only inside a kernel, never in the runner's process.
"""

from __future__ import annotations

import ast
import json
import os
import queue
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from synth.files import RUN_CONTEXT_ENV, atomic_write_text
from synth.forkserver import ForkServer, fork_provisioner, forking_supported, kernel_python

__all__ = ["KernelPool", "PoolClosed", "WarmKernel", "notebook_imports"]


_POLL_SECONDS = 0.2
"""How often a kernel that is starting or importing checks whether it was stopped meanwhile."""

_STOP_WAIT_SECONDS = 10.0
"""How long stopping a kernel waits for its preload to notice and close its sockets."""


class PoolClosed(RuntimeError):
    """The pool was closed (the run ended or was interrupted); no kernel is handed out."""


def notebook_imports(notebook: str | Path) -> tuple[str, ...]:
    """Modules a notebook imports at the top level of its code cells, in order.

    ``from a import b`` gives ``a`` and ``a.b`` (``b`` may be a submodule); a cell that is not
    valid Python (a magic) is skipped.
    """
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    names: list[str] = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        try:
            tree = ast.parse("".join(source) if isinstance(source, list) else source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
                names += [f"{node.module}.{alias.name}" for alias in node.names
                          if alias.name != "*"]
    return tuple(dict.fromkeys(names))


def _manager_class() -> type:
    from jupyter_client.manager import AsyncKernelManager

    class _Manager(AsyncKernelManager):
        """A kernel manager that remembers its clients, to close their sockets afterwards."""

        def client(self, **kwargs: Any) -> Any:
            kc = super().client(**kwargs)
            self.synth_clients = [*getattr(self, "synth_clients", []), kc]
            return kc

    return _Manager


class WarmKernel:
    """A started kernel (``km``, a jupyter_client kernel manager) for one notebook."""

    def __init__(self, km: Any, context_path: Path) -> None:
        self.km = km
        self.context_path = context_path
        self.lock = threading.RLock()
        """Held while the kernel process starts and while it stops: jupyter_client's kernel
        manager must never start and shut down (or shut down twice) from two threads at once."""
        self._stopped = False
        self._idle = threading.Event()
        """Set while no preload is talking to the kernel (its client's sockets are closed)."""
        self._idle.set()

    @property
    def pid(self) -> int | None:
        """The kernel's process id (None once stopped)."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        return None if process is None else process.pid

    def set_context(self, context: dict[str, Any]) -> None:
        """Write the job's context where this kernel's ``SYNTH_RUN_CONTEXT`` points."""
        atomic_write_text(self.context_path, json.dumps(context, default=str))

    def preload(self, modules: Sequence[str], timeout: float) -> None:
        """Import ``modules`` in the kernel, silently (no output, no history, no names)."""
        from jupyter_core.utils import run_sync

        self._idle.clear()
        try:
            run_sync(self._preload)(list(modules), timeout)
        finally:
            self._idle.set()

    async def _preload(self, modules: list[str], timeout: float) -> None:
        # Short polls throughout: a kernel stopped while it starts or imports (the pool closed,
        # Ctrl-C) ends the wait at once, and this client's sockets are closed before
        # shutdown() stops the kernel (zmq sockets must not be closed under a poll).
        deadline = time.monotonic() + timeout
        kc = self.km.client()
        # No heartbeat (its thread opens its socket late: stopping the client meanwhile, as
        # closing the pool does, makes the thread fail), no stdin or control: not used here.
        kc.start_channels(stdin=False, hb=False, control=False)
        try:
            while True:
                self._raise_if_stopped()
                try:
                    await kc.wait_for_ready(timeout=_POLL_SECONDS)
                    break
                except RuntimeError:  # no reply yet
                    if time.monotonic() > deadline:
                        raise
            if modules:
                code = f"__import__('synth.forkserver', fromlist=['_']).preload({modules!r})"
                msg_id = kc.execute(code, silent=True, store_history=False)
                while True:
                    self._raise_if_stopped()
                    try:
                        reply = await kc.get_shell_msg(timeout=_POLL_SECONDS)
                    except queue.Empty:
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"the kernel did not import {modules} within "
                                               f"{timeout:g} s") from None
                        continue
                    if reply["parent_header"].get("msg_id") == msg_id:
                        break
        finally:
            kc.stop_channels()

    def _raise_if_stopped(self) -> None:
        if self._stopped:
            raise PoolClosed("the kernel was stopped while it started")

    def shutdown(self) -> None:
        """Kill the kernel and close every client's sockets; safe to call twice, from any
        thread (a kernel still starting is stopped once it has started)."""
        from jupyter_core.utils import run_sync

        with self.lock:
            if self._stopped:
                return
            self._stopped = True
            self._idle.wait(timeout=_STOP_WAIT_SECONDS)  # a preload sees the flag, closes
            for kc in getattr(self.km, "synth_clients", []):
                kc.stop_channels()
            self.km.synth_clients = []
            try:
                if run_sync(self.km.is_alive)():
                    run_sync(self.km.shutdown_kernel)(now=True)
                else:
                    run_sync(self.km.cleanup_resources)()
            except RuntimeError:  # "No kernel is running!"
                pass
            self.context_path.unlink(missing_ok=True)


class KernelPool:
    """Kernels started ahead of the jobs that will use them, in job order.

    Parameters
    ----------
    preloads
        One entry per job, in the order the jobs will :meth:`take` their kernel: the modules to
        import in that job's kernel before it is handed over. Exactly this many kernels are
        started over the pool's life.
    slots
        How many kernels execute at once (``--jobs``). One more than that are kept started and
        not yet taken (a sequential run: two kernels wait while one notebook executes).
    cwd
        The kernels' working directory (the notebooks' folder).
    warm
        False: no kernel is started ahead and nothing is preloaded (a kernel starts when it is
        taken, as papermill would start it); for comparison.
    fork
        Fork the kernels from a template that imports every job's modules once
        (:mod:`synth.forkserver`); None: where that is supported (Linux). A kernel that cannot
        be forked starts the usual way.
    cores
        The machine's cores (default: ``os.cpu_count()``). Without forking, kernels warm up
        ahead only on the cores the slots leave free: with none free, they would only take
        CPU from the notebooks executing (measured on two cores, ``--jobs 2``: 27-28 s warm
        against 23.5 s cold); each then starts when it is taken.
    """

    def __init__(self, preloads: Sequence[Sequence[str]], *, slots: int = 1,
                 cwd: str | Path | None = None, kernel_name: str = "python3",
                 extra_arguments: Sequence[str] = (), warm: bool = True,
                 fork: bool | None = None, timeout: float = 60.0,
                 cores: int | None = None) -> None:
        self._preloads = [tuple(p) for p in preloads]
        self._slots = max(1, slots)
        self._cwd = str(cwd) if cwd is not None else None
        self._kernel_name = kernel_name
        self._extra_arguments = list(extra_arguments)
        self._server = (self._fork_server(timeout)
                        if warm and (fork is None and forking_supported() or fork) else None)
        self._provisioner = fork_provisioner(self._server) if self._server else None
        """The provisioner class of forked kernels (one class for the pool's life)."""
        spare = max(0, (cores or os.cpu_count() or 1) - self._slots)
        self._warm = warm and (self._server is not None or spare > 0)
        self._warming = threading.BoundedSemaphore(max(1, spare))
        """Kernels warming ahead take the cores the slots leave free, no more (unless forked:
        a forked kernel has nothing left to import)."""
        self._timeout = timeout
        self._lock = threading.Lock()
        self._closed = False
        self._started = 0
        self._taken = 0
        self._futures: dict[int, Future[WarmKernel]] = {}
        self._alive: set[WarmKernel] = set()
        self._folder = Path(tempfile.mkdtemp(prefix="synth-kernels-"))
        # The cores the slots leave free warm kernels up: at the outset the first jobs'
        # kernels and the next start together, and one kernel more than the slots waits
        # (started, not taken), so a short notebook that ends before the next kernel has warmed
        # up finds the one after it already starting.
        self._starter = ThreadPoolExecutor(max_workers=self._slots + 1,
                                           thread_name_prefix="synth-kernel-start")
        if self._warm:
            for _ in range(self._slots + 1):
                self._start_next()

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fork_server(self, timeout: float) -> ForkServer | None:
        """The template kernels are forked from, started now (None: kernels are not forked)."""
        python = kernel_python(self._kernel_name)
        if python is None or not self._preloads:
            return None
        modules = list(dict.fromkeys(m for p in self._preloads for m in p))
        try:
            return ForkServer(python, modules, cwd=self._cwd, timeout=timeout)
        except OSError:  # no template process: kernels start the usual way
            return None

    @property
    def forked(self) -> bool:
        """Whether kernels are forked from a template (:mod:`synth.forkserver`)."""
        return self._server is not None

    @property
    def alive(self) -> list[WarmKernel]:
        """The kernels started and not yet stopped."""
        with self._lock:
            return list(self._alive)

    def _start_next(self) -> None:
        with self._lock:
            if self._closed or self._started >= len(self._preloads):
                return
            index = self._started
            self._started += 1
            self._futures[index] = self._starter.submit(self._start, index)

    def _start(self, index: int) -> WarmKernel:
        if not self._warm or index < self._slots or self._server is not None:
            return self._start_now(index)  # goes to a slot at once, or is forked
        while not self._warming.acquire(timeout=_POLL_SECONDS):
            if self._closed:
                raise PoolClosed("the kernel pool is closed")
        try:
            return self._start_now(index)
        finally:
            self._warming.release()

    def _start_now(self, index: int) -> WarmKernel:
        context = self._folder / f"kernel-{index}.json"
        km = _manager_class()(kernel_name=self._kernel_name)
        if self._provisioner is not None:
            km.kernel_id = str(uuid.uuid4())
            km.provisioner = self._provisioner(kernel_id=km.kernel_id,
                                               kernel_spec=km.kernel_spec, parent=km)
        kernel = WarmKernel(km, context)
        env = {**os.environ, RUN_CONTEXT_ENV: str(context)}
        from jupyter_core.utils import run_sync

        with self._lock:
            if self._closed:
                raise PoolClosed("the kernel pool is closed")
            self._alive.add(kernel)
        try:
            with kernel.lock:
                if kernel._stopped:  # close() released it before it could start
                    raise PoolClosed("the kernel pool is closed")
                run_sync(km.start_kernel)(extra_arguments=self._extra_arguments,
                                          cwd=self._cwd, env=env)
            if self._warm:  # outside the lock: close() may stop the kernel while it imports
                kernel.preload(self._preloads[index], self._timeout)
        except BaseException:
            self.release(kernel)
            raise
        with self._lock:
            closed = self._closed
        if closed:  # closed while this kernel started: close() may have missed its process
            self.release(kernel)
            raise PoolClosed("the kernel pool is closed")
        return kernel

    def take(self) -> WarmKernel:
        """The next job's kernel (waiting for it to be ready); the one after starts now.

        Raises
        ------
        PoolClosed
            After :meth:`close`.
        Exception
            Whatever stopped the kernel from starting.
        """
        if not self._warm:  # started now, on the critical path
            self._start_next()
        with self._lock:
            if self._closed:
                raise PoolClosed("the kernel pool is closed")
            index = self._taken
            self._taken += 1
            future = self._futures.pop(index, None)
        if future is None:
            raise PoolClosed(f"no kernel {index}: the pool holds {len(self._preloads)}")
        if self._warm:
            self._start_next()
        return future.result()

    def release(self, kernel: WarmKernel) -> None:
        """Kill a kernel (after its notebook ran, or failed)."""
        try:
            kernel.shutdown()
        finally:
            with self._lock:
                self._alive.discard(kernel)

    def close(self) -> None:
        """Kill every kernel: executing, warming up, or still starting (waits for those)."""
        with self._lock:
            self._closed = True
            futures = list(self._futures.values())
            self._futures.clear()
        for future in futures:
            future.cancel()
        for kernel in self.alive:
            self.release(kernel)
        if self._server is not None:  # kills what it forked; ends starters waiting for it
            self._server.close()
        self._starter.shutdown(wait=True, cancel_futures=True)
        for kernel in self.alive:  # started while the loop above ran
            self.release(kernel)
        shutil.rmtree(self._folder, ignore_errors=True)
