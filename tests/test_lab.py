"""A real Jupyter server and JupyterLab in headless Chromium, on loopback only.

The server tests start ``jupyter server`` from this environment on a free 127.0.0.1 port with a
token, list and open every notebook through the REST API, run 01_review_overview.ipynb cell by
cell in a kernel started by that server (over its kernel websocket), and shut the server down.
The browser test executes the same notebook with papermill, serves it with ``jupyter lab`` and
loads it in headless Chromium driven over the Chrome DevTools Protocol; it asserts that the
notebook tab and the rendered figure are on the page, and takes a screenshot (kept at the path
in the environment variable ``SYNTH_LAB_SCREENSHOT`` when set, to look at).

Every wait is bounded and every process is ended in a fixture finalizer. Jupyter's config,
data and runtime folders point into a temporary folder, so neither the user's Jupyter settings
nor these tests' state leak in either direction. The browser test skips when Chromium is not
installed (``.ci/install-browser`` installs it).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest
import requests
import websocket
from conftest import DEMO, ROOT

NOTEBOOKS = ROOT / "notebooks"
EXECUTED = "01_review_overview.ipynb"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
START_TIMEOUT = 60.0
"""Seconds a server or browser may take to come up (first start compiles bytecode)."""
CELL_TIMEOUT = 120.0
"""Seconds one notebook cell may run in the server's kernel."""
PAGE_TIMEOUT = 90.0
"""Seconds JupyterLab may take to show the notebook and its figure."""
STOP_TIMEOUT = 15.0
"""Seconds a process may take to exit after being asked to."""
HTTP_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(what: str, check: Callable[[], Any], timeout: float, *,
              alive: subprocess.Popen | None = None, log: Path | None = None,
              interval: float = 0.2) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        if alive is not None and alive.poll() is not None:
            pytest.fail(f"{what}: process exited with {alive.returncode}\n{_tail(log)}")
        try:
            last = check()
        except (requests.RequestException, OSError, websocket.WebSocketException) as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    pytest.fail(f"{what}: not within {timeout:.0f} s (last: {last!r})\n{_tail(log)}")


def _tail(log: Path | None, lines: int = 40) -> str:
    if log is None or not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _end(proc: subprocess.Popen) -> None:
    """End a process group we started: SIGTERM, then SIGKILL, each wait bounded."""
    if proc.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=STOP_TIMEOUT)
            return
        except subprocess.TimeoutExpired:
            continue


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited; it only waits for its parent to reap it
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] != "Z"
    except OSError:
        return False


def _jupyter_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")):
        env[var] = str(home / sub)
        (home / sub).mkdir(parents=True, exist_ok=True)
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    env.pop("MPLBACKEND", None)  # the kernel's default, inline, as in a user's lab
    return env


@dataclass
class Server:
    """A running Jupyter server: base URL, token and process."""

    url: str
    token: str
    proc: subprocess.Popen
    log: Path

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"token {self.token}"}
        return requests.request(method, f"{self.url}{path}", headers=headers,
                                timeout=HTTP_TIMEOUT, **kwargs)

    def shutdown(self) -> int:
        """Ask the server to stop (it shuts its kernels down first); return its exit code."""
        if self.proc.poll() is None:
            try:
                self.api("POST", "/api/shutdown")
            except requests.RequestException:
                pass
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                _end(self.proc)
        return self.proc.returncode


@pytest.fixture
def start_server(tmp_path_factory) -> Iterator[Callable[..., Server]]:
    """Start ``jupyter server`` or ``jupyter lab`` on a root folder; ended at teardown."""
    started: list[Server] = []

    def start(root: Path, *, app: str = "server") -> Server:
        home = tmp_path_factory.mktemp("jupyter-home")
        port, token = _free_port(), secrets.token_hex(16)
        cmd = [sys.executable, "-m", "jupyter", app, "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}", "--LabApp.extension_manager=readonly"]
        if os.geteuid() == 0:  # CI containers run as root
            cmd.append("--allow-root")
        if app == "lab":
            settings = (home / "config" / "lab" / "user-settings" / "@jupyterlab"
                        / "apputils-extension")
            settings.mkdir(parents=True)
            (settings / "notification.jupyterlab-settings").write_text(
                json.dumps({"fetchNews": "false", "checkForUpdates": False}))
            cmd += ["--LabApp.news_url=",
                    "--LabApp.check_for_updates_class="
                    "jupyterlab.handlers.announcements.NeverCheckForUpdate"]
        log = home / "server.log"
        with log.open("w") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=root,
                                    env=_jupyter_env(home), start_new_session=True)
        server = Server(f"http://127.0.0.1:{port}", token, proc, log)
        started.append(server)
        _wait_for(f"jupyter {app} on port {port}",
                  lambda: server.api("GET", "/api/status").ok, START_TIMEOUT,
                  alive=proc, log=log)
        return server

    yield start
    for server in started:
        server.shutdown()
        _end(server.proc)


# --- a kernel over the server's websocket ------------------------------------------------------

class KernelClient:
    """Execute code in a server-side kernel through ``/api/kernels/<id>/channels``.

    Hand-written (about 40 lines) because jupyter_client speaks ZMQ to a local kernel, not the
    server's websocket; this is the path JupyterLab itself uses.
    """

    def __init__(self, server: Server, kernel_id: str) -> None:
        self.session = uuid.uuid4().hex
        ws_url = server.url.replace("http", "ws", 1)
        self.ws = websocket.create_connection(
            f"{ws_url}/api/kernels/{kernel_id}/channels?session_id={self.session}",
            header=[f"Authorization: token {server.token}"], timeout=HTTP_TIMEOUT)

    def execute(self, code: str, timeout: float = CELL_TIMEOUT) -> tuple[dict, list[dict]]:
        """Run ``code``; return the execute_reply content and the iopub output messages."""
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": self.session,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        reply: dict | None = None
        idle = False
        outputs: list[dict] = []
        deadline = time.monotonic() + timeout
        while reply is None or not idle:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"kernel did not finish within {timeout:.0f} s:\n{code}")
            self.ws.settimeout(left)
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if msg["channel"] == "shell" and kind == "execute_reply":
                reply = msg["content"]
            elif kind == "status":
                idle = msg["content"]["execution_state"] == "idle"
            elif kind in ("stream", "display_data", "execute_result", "error"):
                outputs.append(msg)
        return reply, outputs

    def value(self, expression: str) -> Any:
        """The value of a JSON-serialisable Python expression, evaluated in the kernel."""
        reply, outputs = self.execute(f"import json as _j; print(_j.dumps({expression}))")
        assert reply["status"] == "ok", reply
        text = "".join(m["content"]["text"] for m in outputs if m["header"]["msg_type"] == "stream")
        return json.loads(text)

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def repo_server(start_server) -> Server:
    """``jupyter server`` on the repository's notebooks folder, as ``make lab`` serves it."""
    return start_server(NOTEBOOKS)


def test_every_notebook_is_listed_and_opens(repo_server: Server):
    listing = repo_server.api("GET", "/api/contents/")
    assert listing.status_code == 200, listing.text
    listed = {item["name"] for item in listing.json()["content"] if item["type"] == "notebook"}
    on_disk = {p.name for p in NOTEBOOKS.glob("*.ipynb")}
    assert on_disk and listed == on_disk
    for name in sorted(on_disk):
        got = repo_server.api("GET", f"/api/contents/{name}", params={"content": 1})
        assert got.status_code == 200, f"{name}: {got.status_code} {got.text[:300]}"
        model = got.json()
        assert model["type"] == "notebook" and model["format"] == "json", name
        served = nbformat.from_dict(model["content"])
        nbformat.validate(served)
        on_file = nbformat.read(NOTEBOOKS / name, as_version=4)
        assert [c.source for c in served.cells] == [c.source for c in on_file.cells], name
        assert served.metadata.kernelspec.name == "python3", name


def _checkpoints() -> dict[str, tuple[int, int]]:
    """The user's JupyterLab checkpoints beside the notebooks (``make lab`` leaves them): each
    file's size and modification time, to show that a test adds or changes none."""
    folder = NOTEBOOKS / ".ipynb_checkpoints"
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()} if folder.is_dir() else {}


def test_a_notebook_runs_in_a_kernel_started_by_the_server(repo_server: Server, tmp_path: Path):
    checkpoints = _checkpoints()  # whatever a `make lab` session left there stays as it was
    session = repo_server.api("POST", "/api/sessions", json={
        "path": EXECUTED, "type": "notebook", "name": EXECUTED, "kernel": {"name": "python3"}})
    assert session.status_code == 201, session.text
    kernel_id = session.json()["kernel"]["id"]
    client = KernelClient(repo_server, kernel_id)
    try:
        # the kernel runs the working tree's synth, from this environment, in notebooks/
        where = client.value("[__import__('sys').prefix, __import__('os').getcwd(), "
                             "__import__('synth').__file__, __import__('os').getpid()]")
        prefix, cwd, synth_file, kernel_pid = where
        assert Path(prefix).resolve() == Path(sys.prefix).resolve()
        assert Path(cwd).resolve() == NOTEBOOKS.resolve()
        assert Path(synth_file).resolve() == (ROOT / "src" / "synth" / "__init__.py").resolve()

        nb = nbformat.read(NOTEBOOKS / EXECUTED, as_version=4)
        override = (f"review = {str(DEMO)!r}\nfigures_dir = {str(tmp_path / 'figures')!r}\n"
                    f"results_dir = {str(tmp_path / 'results')!r}")
        images = 0
        for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
            reply, outputs = client.execute(cell.source)
            errors = [m["content"] for m in outputs if m["header"]["msg_type"] == "error"]
            assert reply["status"] == "ok" and not errors, (
                f"code cell {i} failed: {reply.get('ename')}: {reply.get('evalue')}")
            images += sum("image/png" in m["content"].get("data", {}) for m in outputs)
            if "parameters" in cell.metadata.get("tags", []):
                reply, _ = client.execute(override)  # as papermill injects parameters
                assert reply["status"] == "ok", reply
        assert images >= 1, "the notebook displayed no figure inline"
        assert (tmp_path / "figures" / "demo" / "studies_per_year.png").stat().st_size > 1000
        assert (tmp_path / "results" / "demo" / "study_characteristics.csv").exists()
        assert _checkpoints() == checkpoints, "running cells in a kernel wrote a checkpoint"

        # a restart gives a fresh interpreter that imports synth from the working tree again
        assert client.value("'rv' in globals()") is True
        restart = repo_server.api("POST", f"/api/kernels/{kernel_id}/restart")
        assert restart.status_code == 200, restart.text
        client.close()
        client = KernelClient(repo_server, kernel_id)
        fresh = client.value("['rv' in globals(), __import__('synth').__file__, "
                             "__import__('os').getpid()]")
        assert fresh[0] is False and fresh[1] == synth_file and fresh[2] != kernel_pid
        kernel_pid = fresh[2]

        # every cell's figure shows inline, not only the session's first one
        shown = []
        for code in (f"import synth\nfrom synth import overview\n"
                     f"from synth.plots.overview import plot_studies_per_year\n"
                     f"counts = overview.studies_per_year(synth.load_review({str(DEMO)!r}))\n"
                     f"plot_studies_per_year(counts);",
                     "plot_studies_per_year(counts);"):
            reply, outputs = client.execute(code)
            assert reply["status"] == "ok", reply
            shown.append(sum("image/png" in m["content"].get("data", {}) for m in outputs))
        assert shown == [1, 1], (
            f"figures displayed inline per cell: {shown}; a figure made inside "
            f"matplotlib.rc_context must not switch IPython's interactive mode back off")
    finally:
        client.close()

    assert repo_server.shutdown() == 0, _tail(repo_server.log)
    assert not _pid_alive(kernel_pid), "the kernel outlived the server's shutdown"


# --- JupyterLab in headless Chromium -----------------------------------------------------------

def _chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


class DevTools:
    """Minimal Chrome DevTools Protocol client over one page's websocket.

    Hand-written (about 25 lines) so the test needs only websocket-client, which the Jupyter
    server already depends on; Playwright would add a package and its own browser downloads.
    """

    def __init__(self, ws_url: str) -> None:
        self.ws = websocket.create_connection(ws_url, timeout=HTTP_TIMEOUT, suppress_origin=True)
        self.next_id = 0

    def call(self, method: str, timeout: float = HTTP_TIMEOUT, **params: Any) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"DevTools {method}: no answer within {timeout:.0f} s")
            self.ws.settimeout(left)
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    pytest.fail(f"DevTools {method}: {msg['error']}")
                return msg["result"]

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            pytest.fail(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def browser(tmp_path_factory) -> Iterator[DevTools]:
    """Headless Chromium with remote debugging on loopback; ended at teardown."""
    exe = _chromium()
    if exe is None:
        pytest.skip("Chromium is not installed (Debian: .ci/install-browser, or "
                    "`apt-get install chromium`); the browser test needs it")
    home = tmp_path_factory.mktemp("chromium")
    profile = home / "profile"
    log = home / "chromium.log"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", "--disable-extensions", "--hide-scrollbars",
           "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
           "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
           "--window-size=1280,1400", f"--user-data-dir={profile}", "about:blank"]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    devtools: DevTools | None = None
    try:
        port_file = profile / "DevToolsActivePort"
        port = _wait_for("Chromium's DevTools port",
                         lambda: port_file.exists() and port_file.read_text().split()[0],
                         START_TIMEOUT, alive=proc, log=log)

        def page_target() -> str | None:
            targets = requests.get(f"http://127.0.0.1:{port}/json/list",
                                   timeout=HTTP_TIMEOUT).json()
            pages = [t for t in targets if t.get("type") == "page"]
            return pages[0]["webSocketDebuggerUrl"] if pages else None

        devtools = DevTools(_wait_for("a Chromium page", page_target, START_TIMEOUT,
                                      alive=proc, log=log))
        yield devtools
    finally:
        if devtools is not None:
            try:
                devtools.call("Browser.close", timeout=STOP_TIMEOUT)
            except (pytest.fail.Exception, websocket.WebSocketException, OSError):
                pass
            devtools.close()
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        _end(proc)


_PAGE_STATE = """(() => {
  const tabs = [...document.querySelectorAll('.lm-DockPanel-tabBar .lm-TabBar-tabLabel')]
    .map(e => e.textContent.trim());
  const current = document.querySelector('.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current');
  const imgs = [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output img')]
    .filter(i => i.complete && i.naturalWidth > 0)
    .map(i => [i.naturalWidth, i.naturalHeight, i.src.slice(0, 22)]);
  const h1 = [...document.querySelectorAll('.jp-Notebook .jp-RenderedMarkdown h1')]
    .map(e => e.textContent.replace('¶', '').trim());
  const tables = document.querySelectorAll('.jp-Notebook .jp-RenderedHTMLCommon table').length;
  const errors = document.querySelectorAll('.jp-Notebook [data-mime-type*="error"]').length;
  return {tabs, current: current ? current.textContent.trim() : null, imgs, h1, tables, errors};
})()"""


_FIGURE_IN_VIEW = """(() => {
  const img = document.querySelector('.jp-Notebook .jp-OutputArea-output img');
  if (!img) return false;
  const r = img.getBoundingClientRect();
  return r.height > 0 && r.top < window.innerHeight && r.bottom > 0;
})()"""

_PAINTED = ("new Promise(done => requestAnimationFrame(() => "
            "requestAnimationFrame(() => done(true))))")
"""Resolves once two frames have been drawn: the state asked for is on screen."""


def test_jupyterlab_shows_an_executed_notebook_with_its_figure(start_server, browser,
                                                                tmp_path: Path):
    root = tmp_path / "lab"
    root.mkdir()
    papermill.execute_notebook(
        NOTEBOOKS / EXECUTED, root / EXECUTED, cwd=NOTEBOOKS, kernel_name="python3",
        progress_bar=False, execution_timeout=int(CELL_TIMEOUT),
        parameters={"review": str(DEMO), "figures_dir": str(tmp_path / "figures"),
                    "results_dir": str(tmp_path / "results")})
    executed = nbformat.read(root / EXECUTED, as_version=4)
    assert any("image/png" in out.get("data", {})
               for cell in executed.cells for out in cell.get("outputs", []))

    lab = start_server(root, app="lab")
    browser.call("Page.enable")
    browser.call("Page.navigate", url=f"{lab.url}/lab/tree/{EXECUTED}?token={lab.token}")
    # JupyterLab renders cells asynchronously (Markdown, tables, images each in its own time):
    # wait for every element the assertions below look at, not only for the first one
    state = _wait_for(
        "JupyterLab showing the notebook tab, its title, Table 1 and its figure",
        lambda: (s := browser.evaluate(_PAGE_STATE)) and EXECUTED in s["tabs"] and s["imgs"]
        and s["h1"] and s["tables"] and s,
        PAGE_TIMEOUT, alive=lab.proc, log=lab.log, interval=0.5)
    assert state["current"] == EXECUTED
    assert state["h1"] and state["h1"][0].startswith("01 · Review overview")
    assert state["tables"] >= 1, "Table 1 is not rendered"
    assert state["errors"] == 0
    width, height, src = state["imgs"][0]
    assert src.startswith("data:image/png") and width > 300 and height > 150

    browser.evaluate("document.querySelector('.jp-Notebook .jp-OutputArea-output img')"
                     ".scrollIntoView({block: 'center'})")
    _wait_for("the figure scrolled into view", lambda: browser.evaluate(_FIGURE_IN_VIEW),
              PAGE_TIMEOUT, alive=lab.proc, log=lab.log)
    browser.call("Runtime.evaluate", expression=_PAINTED, awaitPromise=True,
                 returnByValue=True)  # the scrolled page has been painted
    shot = browser.call("Page.captureScreenshot", format="png")["data"]
    png = base64.b64decode(shot)
    path = tmp_path / "jupyterlab.png"
    path.write_bytes(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    keep = os.environ.get("SYNTH_LAB_SCREENSHOT")
    if keep:
        shutil.copyfile(path, keep)


def test_make_lab_serves_the_notebooks_on_loopback_from_the_venv():
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    dry = subprocess.run([make, "-n", "lab"], cwd=ROOT, capture_output=True, text=True,
                         timeout=30, check=True)
    (line,) = [s for s in dry.stdout.splitlines() if " -m jupyter lab" in s]
    assert line.startswith(".venv/bin/python -m jupyter lab "), line
    assert "--ServerApp.ip=127.0.0.1" in line and "--ServerApp.root_dir=notebooks" in line
