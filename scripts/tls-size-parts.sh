#!/usr/bin/env bash
# What each part of the TLS module costs: every function body of the optimised module (read
# from its name section) is charged to the object that defines it: an mbedtls library file,
# our TLS glue (src/tls) or the client core. Functions inlined into another are charged to
# the caller; data is listed as one line. A static that LTO renamed (name.N) is charged by its
# name; a static inline from a header goes to the first object that defines it.
# Usage: tls-size-parts.sh PROFILE.wasm OBJ_DIR
set -euo pipefail
profile=$1 objdir=$2
owners=$(mktemp)
trap 'rm -f "$owners"' EXIT
while read -r o; do
  case "${o#"$objdir"/}" in build/mbedtls-src/*) part="mbedtls/$(basename "$o" .o)" ;; src/tls/*|build/tls/*) part="src/tls" ;; *) part="core" ;; esac
  llvm-nm-14 --defined-only "$o" 2>/dev/null | awk -v p="$part" 'NF>=3 && $2 ~ /[tTwW]/ {print $3 "\t" p}'
done < <(find "$objdir" -name '*.o' | sort) > "$owners"
node "$(dirname "$0")/size-profile.mjs" "$profile" tsv | awk -F'\t' -v owners="$owners" '
  BEGIN { while ((getline l < owners) > 0) { split(l, f, "\t"); if (!(f[1] in own)) own[f[1]] = f[2] } }
  { name = $2; sub(/\.[0-9]+$/, "", name)   # LTO renames a static to name.N
    part = $1 == "data" ? "data (all parts)" : ((name in own) ? own[name] : "unattributed"); sum[part] += $3; total += $3 }
  END { for (p in sum) printf "%-26s %7d\n", p, sum[p]; printf "%-26s %7d\n", "total (code + data)", total }' | sort -k2 -nr
