#!/usr/bin/env python3
"""Stalled clients against a running `steper serve` on loopback.

stall PORT COUNT DEADLINE: COUNT connections each send a request's headers and one byte of its body,
then nothing. While all of them are still open, /health and a completion from another client are
answered; then the server closes every stalled connection (within DEADLINE plus a margin; the loops
stop by themselves).
door PORT COUNT MAX DEADLINE: COUNT stalled connections against --max-connections MAX: the ones past
MAX are answered 503 at once, so is /health while the server is full; after DEADLINE it answers again.
"""
import http.client
import json
import resource
import select
import socket
import sys
import time

STALL = (b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
         b"Content-Length: 64\r\n\r\n{")


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, need + 64)) if hard != resource.RLIM_INFINITY else max(soft, need + 64)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < need + 16:
        fail(f"RLIMIT_NOFILE allows {want} descriptors, {need} needed")


def stalled(port, count):
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(STALL)
        socks.append(s)
    return socks


def request(port, method, path, body=None):
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(method, path, body=json.dumps(body) if body else None, headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data, time.monotonic() - t0


def closed(s):
    """True when the server has closed s (reads what it sent first); never blocks."""
    try:
        while select.select([s], [], [], 0)[0]:
            if not s.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    return False


def first_bytes(s, until):
    """What the server sends on s before `until` (monotonic seconds)."""
    got = b""
    while time.monotonic() < until and b"\r\n\r\n" not in got:
        if select.select([s], [], [], 0.05)[0]:
            try:
                chunk = s.recv(4096)
            except ConnectionResetError:
                break
            if not chunk:
                break
            got += chunk
    return got


def stall_mode(port, count, deadline):
    raise_fd_limit(count)
    t0 = time.monotonic()
    socks = stalled(port, count)
    status, _, health_s = request(port, "GET", "/health")
    if status != 200:
        fail(f"/health answered {status} behind {count} stalled connections")
    status, data, completion_s = request(port, "POST", "/v1/completions",
                                         {"prompt": "Alvar Quint was", "max_tokens": 4, "temperature": 0})
    if status != 200 or b"text_completion" not in data:
        fail(f"a completion answered {status} behind {count} stalled connections: {data[:200]!r}")
    still_open = sum(not closed(s) for s in socks)
    elapsed = time.monotonic() - t0
    if still_open != count:
        fail(f"only {still_open} of {count} stalled connections were still open when the others were answered "
             f"({elapsed:.2f} s after the first; deadline {deadline} s): the answers waited for them")
    print(f"{count} stalled: /health in {health_s * 1000:.0f} ms, a completion in {completion_s * 1000:.0f} ms")
    open_socks = list(socks)
    until = t0 + deadline + 10
    while open_socks and time.monotonic() < until:
        open_socks = [s for s in open_socks if not closed(s)]
        time.sleep(0.05)
    if open_socks:
        fail(f"{len(open_socks)} stalled connections still open {deadline + 10} s after they stalled")
    print(f"all {count} closed by the server {time.monotonic() - t0:.1f} s after they stalled (deadline {deadline} s)")
    for s in socks:
        s.close()


def door_mode(port, count, max_conn, deadline):
    raise_fd_limit(count)
    t0 = time.monotonic()
    socks = stalled(port, count)
    refused = sum(first_bytes(s, time.monotonic() + 0.5).startswith(b"HTTP/1.1 503") for s in socks[max_conn:])
    if refused != count - max_conn:
        fail(f"{refused} of the {count - max_conn} connections past --max-connections {max_conn} were answered 503")
    if any(closed(s) for s in socks[:max_conn]):
        fail("a connection within --max-connections was closed before its deadline")
    status, _, _ = request(port, "GET", "/health")
    if status != 503:
        fail(f"/health on a full server answered {status}, not 503")
    until = t0 + deadline + 10
    status = 0
    while time.monotonic() < until:
        status, _, _ = request(port, "GET", "/health")
        if status == 200:
            break
        time.sleep(0.2)
    if status != 200:
        fail("/health still refused after the stalled connections' deadline")
    print(f"door: {refused} refused with 503, /health 200 again after {time.monotonic() - t0:.1f} s")
    for s in socks:
        s.close()


if __name__ == "__main__":
    mode, args = sys.argv[1], [float(a) if "." in a else int(a) for a in sys.argv[2:]]
    if mode == "stall":
        stall_mode(*args)
    else:
        door_mode(*args)
