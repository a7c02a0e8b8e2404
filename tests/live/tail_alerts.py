#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Follows tcpguard watch's --alerts file and copies each record to
standard output with "seen" added: the wall-clock time at which the
record became readable (packet timestamps are the kernel's real-time
clock, as is time.time()). Stops after the first "end" record, or after
TIMEOUT seconds.

  tail_alerts.py FILE [TIMEOUT]
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tail_json import follow  # noqa: E402


def main():
    timeout = float(sys.argv[2] if len(sys.argv) > 2 else 60)
    for d, now in follow(sys.argv[1], time.time() + timeout):
        d["seen"] = now
        print(json.dumps(d), flush=True)
        if d.get("event") == "end":
            return


if __name__ == "__main__":
    main()
