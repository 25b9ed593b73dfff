"""A scripted 20601 agent for the live endpoint tests: plays the agent lines of a trace file over TCP.

Run as its own process: `python tests/conformance/replay_agent.py TRACE PORT`. It sends each agent
APDU of the trace (lines without '<'), reading whatever the manager answers in between (bounded
waits), then closes. A crafted failing case replayed this way is a misbehaving device.
"""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path


def agent_apdus(text: str) -> list[bytes]:
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("<"):
            out.append(bytes.fromhex("".join(line.split())))
    return out


def drain(sock: socket.socket, wait: float) -> None:
    sock.settimeout(wait)
    end = time.monotonic() + wait
    while time.monotonic() < end:
        try:
            if not sock.recv(65536):
                return
        except (TimeoutError, OSError):
            return


def main(trace: str, port: int) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for octets in agent_apdus(Path(trace).read_text(encoding="utf-8")):
            sock.sendall(octets)
            drain(sock, 0.3)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
