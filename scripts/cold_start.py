#!/usr/bin/env python3
"""Cold start: spawn -> first poll of the Lambda Runtime API, median of N runs.

A minimal Runtime API (a loopback socket) records when a process's first
`GET /2018-06-01/runtime/invocation/next` arrives; the process is then killed.
Binaries are run alternately, so both see the same machine load.
Usage: cold_start.py [--runs 15] NAME=BINARY...
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

NEXT = b"GET /2018-06-01/runtime/invocation/next"


def first_poll(binary, listener, port, timeout=10.0):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": "cold-start",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_STREAM_NAME": "stream",
        "AWS_LAMBDA_LOG_GROUP_NAME": "group",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "SLO_TABLE": "sloguard",
        "SLO_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:sloguard",
        "RUST_LOG": "warn",
    }
    start = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    listener.settimeout(timeout)
    try:
        while True:
            conn, _ = listener.accept()
            conn.settimeout(timeout)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            elapsed = time.perf_counter() - start
            conn.close()
            if data.startswith(NEXT):
                return elapsed
    finally:
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("binaries", nargs="+", help="NAME=PATH")
    args = ap.parse_args()
    named = [b.split("=", 1) for b in args.binaries]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    times = {name: [] for name, _ in named}
    for name, path in named:  # warm the page cache once
        first_poll(path, listener, port)
    for _ in range(args.runs):
        for name, path in named:
            times[name].append(first_poll(path, listener, port) * 1000)
    floor = statistics.median(times[named[-1][0]])
    print(f"spawn -> first Runtime API poll, median of {args.runs} (min-max), loopback stub on port {port}")
    for name, _ in named:
        t = times[name]
        m = statistics.median(t)
        print(f"  {name:<12} {m:6.2f} ms  ({min(t):.2f}-{max(t):.2f})  {m / floor:.2f}x {named[-1][0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
