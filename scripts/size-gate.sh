#!/usr/bin/env bash
# Size gate: measures every file of size-budget.txt (the list of what ships) and fails when a
# raw, gzip -9 or brotli -q 11 size exceeds its budget ("-" = measured, not gated). Prints
# every measurement so the numbers can go into notes as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${SIZE_BUDGET:-size-budget.txt}
fail=0
printf '%-30s %9s %9s %9s   %s\n' artifact raw gzip-9 brotli-11 budget
while read -r path raw gz br; do
  case "$path" in ''|'#'*) continue ;; esac
  if [ ! -f "$path" ]; then echo "size gate: $path is missing (build it first)" >&2; fail=1; continue; fi
  r=$(stat -c %s "$path")
  g=$(gzip -9 -c "$path" | wc -c)
  b=$(brotli -q 11 -c "$path" | wc -c)
  status=ok
  if [ "$raw" = - ]; then status='(not gated)'
  elif [ "$r" -gt "$raw" ] || [ "$g" -gt "$gz" ] || [ "$b" -gt "$br" ]; then status=OVER; fail=1; fi
  printf '%-30s %9d %9d %9d   %s/%s/%s %s\n' "$path" "$r" "$g" "$b" "$raw" "$gz" "$br" "$status"
done < "$budget"
if [ "$fail" -ne 0 ]; then echo "size gate: FAILED" >&2; exit 1; fi
echo "size gate: ok"
