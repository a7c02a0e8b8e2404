#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Follows a JSON-lines file as tcpguard watch writes it and prints, for
each record, how long after the session's end it became readable:
  ORIG_P END_REASON SECONDS
where the end is the last packet (last_ts) plus the timer the session
waited out before it ended (the tcp-time-wait timeout given as LINGER).
Packet timestamps are the kernel's real-time clock, as is time.time().

  tail_json.py FILE COUNT LINGER   (gives up after 30 s)
"""
import json
import sys
import time


def follow(path, give_up):
    """Yields (record, time it became readable) for each JSON line of
    @path as it is written, until time.time() passes @give_up."""
    data, done = b"", 0
    while time.time() < give_up:
        try:
            with open(path, "rb") as f:
                f.seek(len(data))
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        if chunk:
            now = time.time()
            data += chunk
            lines = data.split(b"\n")[:-1]
            for line in lines[done:]:
                yield json.loads(line), now
            done = len(lines)
        time.sleep(0.002)


def main():
    path, count, linger = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    done = 0
    for d, now in follow(path, time.time() + 30):
        print("%d %s %.3f" % (d["id.orig_p"], d["end_reason"],
                              now - d["last_ts"] - linger), flush=True)
        done += 1
        if done == count:
            break


if __name__ == "__main__":
    main()
