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


def main():
    path, count, linger = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    data, done, give_up = b"", 0, time.time() + 30
    while done < count and time.time() < give_up:
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
                d = json.loads(line)
                print("%d %s %.3f" % (d["id.orig_p"], d["end_reason"],
                                      now - d["last_ts"] - linger), flush=True)
            done = len(lines)
        time.sleep(0.002)


if __name__ == "__main__":
    main()
