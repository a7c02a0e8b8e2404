#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Traffic for the live tests: the capture scenarios of
tests/scenarios/traffic.py, run between the tgl-* namespaces a live test
created, on 10.96.NET.1 (client) and 10.96.NET.2 (server).

Usage: drive.py --cns NS --sns NS --net N SCENARIO [--cport P] [--sport P]
SCENARIO is one of traffic.py's, or "open": a handshake and a request,
then the session is held open until the process is killed (at most 60 s).
"""
import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "scenarios"))
import traffic  # noqa: E402


def sc_open(x, a):
    c, s = traffic._established_exchange(x, a)  # noqa: F841 (kept open)
    print("open", flush=True)
    time.sleep(60)


class Args(argparse.Namespace):
    """traffic.py's options this driver does not set read as None."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cns", required=True)
    p.add_argument("--sns", required=True)
    p.add_argument("--net", type=int, required=True)
    p.add_argument("scenario")
    p.add_argument("--cport", type=int, default=40001)
    p.add_argument("--sport", type=int, default=8080)
    a = Args(**vars(p.parse_args()))
    for ns in (a.cns, a.sns):
        if not ns.startswith("tgl-"):
            sys.exit("refusing namespace %r (must be a tgl-* test namespace)" % ns)
    if not 0 <= a.net <= 255:
        sys.exit("--net: 0..255")
    # the defaults traffic.py gives every scenario
    for k, v in (("family", 4), ("req", 100), ("resp", 2000), ("timeout", 3.5),
                 ("chunks", 5), ("bytes", 1 << 20), ("rcvbuf", 4096), ("stall", 2.5),
                 ("up", 100000), ("down", 50000), ("bulk_rcvbuf", 1 << 20)):
        setattr(a, k, v)
    a.caddr, a.saddr = "10.96.%d.1" % a.net, "10.96.%d.2" % a.net
    traffic.ADDR = {4: (a.caddr, a.saddr)}
    signal.alarm(70)
    fn = sc_open if a.scenario == "open" else traffic.SCENARIOS[a.scenario]
    fn(traffic.Ctx(a), a)


if __name__ == "__main__":
    main()
