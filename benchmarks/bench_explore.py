"""Print how many bytes one step of the Almaty explorer sends from the kernel to the browser.

A real IPython kernel (jupyter_client) builds ``explore.almaty_explorer()``, then moves the
day slider; every ``comm_msg`` the kernel publishes on IOPub for that step is counted
(JSON content plus binary buffers). Target: < 20 KB per step (issue 11), online and offline.
The first figure is the size of everything sent when the explorer is first shown.

Run: ``.venv/bin/python benchmarks/bench_explore.py``.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile

from jupyter_client.manager import start_new_kernel

TARGET = 20_000
STEPS = [("day", "w.day.value = 5"), ("day", "w.day.value = 12"), ("event type", "w.event_types.value = ('Riots',)")]


def _sent(client, code: str) -> int:
    """Bytes of the comm messages the kernel publishes while running ``code``."""
    msg_id = client.execute(code)
    total = 0
    while True:
        msg = client.get_iopub_msg(timeout=120)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] in ("comm_msg", "comm_open"):
            total += len(json.dumps(msg["content"])) + sum(len(b) for b in msg.get("buffers", []))
        if msg["msg_type"] == "error":
            raise RuntimeError("\n".join(msg["content"]["traceback"]))
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return total


def measure(offline: bool) -> dict[str, int]:
    env = dict(os.environ, KZCOURSE_OFFLINE="1" if offline else "0", IPYTHONDIR=tempfile.mkdtemp())
    km, client = start_new_kernel(kernel_name="python3", env=env)
    try:
        out = {"first display": _sent(client, "from kzcourse import explore\nw = explore.almaty_explorer()\ndisplay(w)")}
        for i, (what, code) in enumerate(STEPS):
            out[f"step {i + 1} ({what})"] = _sent(client, code)
        return out
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)


def main() -> int:
    worst = 0
    for offline in (False, True):
        for name, size in measure(offline).items():
            print(f"{'offline' if offline else 'online '}  {name:<24} {size / 1000:8.1f} kB")
            if name.startswith("step"):
                worst = max(worst, size)
    print(f"largest step: {worst / 1000:.1f} kB (target < {TARGET / 1000:.0f} kB)")
    return 0 if worst < TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
