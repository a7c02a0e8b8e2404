#!/bin/bash
# Regenerate every held-out capture and its truth (root, about a minute).
cd "$(dirname "$0")" || exit 1
rc=0
for s in hx-*.sh; do
    ./"$s" >/dev/null || { echo "FAILED: $s" >&2; rc=1; }
done
exit $rc
