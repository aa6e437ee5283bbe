#!/usr/bin/env bash
# Fetches the GraphiQL browser assets into crmgraph/static/graphiql/ so the service can serve
# GraphiQL on machines without internet access (see crmgraph/graphiql.py).
#
# The pins are exactly what strawberry-graphql 0.341.2's own GraphiQL page loads from unpkg,
# and the sha384 digests are its SRI hashes, so the local copies are byte-identical to the CDN
# ones. js-cookie is left out: strawberry only uses it to read Django's csrftoken cookie.
# tests/api/test_graphiql_page.py checks that these pins match crmgraph/graphiql.py.
#
# Usage: scripts/fetch-graphiql.sh [destination-dir]
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$repo_root/crmgraph/static/graphiql}"

# package@version | file inside the npm tarball | local file name | SRI digest
assets=(
  "react@18.2.0|umd/react.production.min.js|react.production.min.js|sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8"
  "react-dom@18.2.0|umd/react-dom.production.min.js|react-dom.production.min.js|sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh"
  "graphiql@3.8.3|graphiql.min.css|graphiql.min.css|sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM"
  "graphiql@3.8.3|graphiql.min.js|graphiql.min.js|sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie"
  "@graphiql/plugin-explorer@1.0.2|dist/style.css|plugin-explorer.css|sha384-5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi"
  "@graphiql/plugin-explorer@1.0.2|dist/index.umd.js|plugin-explorer.umd.js|sha384-2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9"
)

for tool in npm node tar; do
  command -v "$tool" >/dev/null || { echo "fetch-graphiql: '$tool' is required" >&2; exit 1; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

sri() {
  node -e 'const c = require("crypto"), f = require("fs");
    process.stdout.write("sha384-" + c.createHash("sha384").update(f.readFileSync(process.argv[1])).digest("base64"));' "$1"
}

# Stage and verify everything before touching $dest, so a failed run leaves the old files intact.
mkdir -p "$tmp/stage"
declare -A unpacked=()
for entry in "${assets[@]}"; do
  IFS='|' read -r spec inner name digest <<<"$entry"
  pkg_dir="$tmp/pkg/${spec//\//_}"
  if [[ -z "${unpacked[$spec]:-}" ]]; then
    mkdir -p "$pkg_dir"
    echo "fetch-graphiql: npm pack $spec" >&2
    (cd "$pkg_dir" && npm pack --silent --ignore-scripts "$spec" >/dev/null)
    tarballs=("$pkg_dir"/*.tgz)
    tar -xzf "${tarballs[0]}" -C "$pkg_dir"
    unpacked[$spec]=1
  fi
  src="$pkg_dir/package/$inner"
  [[ -f "$src" ]] || { echo "fetch-graphiql: $spec has no $inner" >&2; exit 1; }
  actual="$(sri "$src")"
  if [[ "$actual" != "$digest" ]]; then
    echo "fetch-graphiql: $spec/$inner is $actual, expected $digest" >&2
    exit 1
  fi
  cp "$src" "$tmp/stage/$name"
done

mkdir -p "$dest"
for entry in "${assets[@]}"; do
  IFS='|' read -r spec inner name digest <<<"$entry"
  install -m 0644 "$tmp/stage/$name" "$dest/$name"
  printf 'wrote %s (%s %s, %s bytes)\n' "$dest/$name" "$spec" "$inner" "$(wc -c <"$dest/$name" | tr -d ' ')"
done
