"""Ctrl-C during a sweep on a LocalCluster: exit 130 in seconds, no workers, nothing written.

The workers run each value's solve in a thread that no signal reaches; the command stops
its cluster's worker processes itself (a nanny would give each 4 s, then start a new one).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

psutil = pytest.importorskip("psutil")  # installed with distributed

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

ENV = os.environ | {"PYTHONWARNINGS": "ignore"}
BUSY_CPU_SECONDS = 4.5  # a worker this far in has loaded the run and is solving (M)


def test_ctrl_c_during_a_cluster_sweep_stops_it_at_once(tmp_path):
    folder = tmp_path / "runs"
    subprocess.run([sys.executable, "-m", "sufficiency", "synth", str(folder), "--scale", "M",
                    "--seed", "1"], check=True, capture_output=True, timeout=300, env=ENV)
    toml = next(folder.glob("*.toml"))
    root = tmp_path / "root"
    proc = subprocess.Popen([sys.executable, "-m", "sufficiency", "sweep", str(toml),
                             "--parameter", "independent.cost_per_place", "--values",
                             "40000,54000", "--output-root", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        command = psutil.Process(proc.pid)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            busy = []
            for child in command.children(recursive=True):
                try:
                    busy.append(child.cpu_times().user >= BUSY_CPU_SECONDS)
                except psutil.NoSuchProcess:
                    continue
            if any(busy):
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the sweep is still running when Ctrl-C comes"
        workers = command.children(recursive=True)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        seconds = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert seconds < 10, err
    assert "interrupted: nothing was written" in err
    assert "Traceback" not in err
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, "no worker process outlives the command"
    assert not root.exists() or not any(root.rglob("*"))
