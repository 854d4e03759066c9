#!/usr/bin/env bash
# Fetches MovieLens-100K as RecBole's atomic files (ml-100k.inter, .item, .user) from the PyPI
# wheel of recbole 1.2.1, checks them against pinned SHA-256 digests, and prints the directory
# that holds them. Idempotent: a directory already holding the checked files is reused.
#
#   ops/movielens.sh            fetch (if needed) into .data/ml-100k and print that directory
#   LOUPE_DATA_CACHE=DIR ops/movielens.sh    use DIR/ml-100k instead
#
# The data is never committed (.data/ is gitignored); `loupe evaluate --offline --dataset
# movielens-100k --from "$(ops/movielens.sh)"` and `loupe import movielens --from …` read it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${LOUPE_DATA_CACHE:-$root/.data}/ml-100k"
readonly version="1.2.1"
readonly files=(ml-100k.inter ml-100k.item ml-100k.user)
readonly digests=(
    4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff
    51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532
    4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972
)

verified() {
    for index in "${!files[@]}"; do
        [ -f "$target/${files[$index]}" ] || return 1
        echo "${digests[$index]}  $target/${files[$index]}" | sha256sum --check --status || return 1
    done
}

if ! verified; then
    echo "movielens.sh: fetching recbole $version from PyPI for MovieLens-100K" >&2
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --dest "$scratch" "recbole==$version" >&2
    wheel=$(ls "$scratch"/recbole-"$version"-*.whl)
    mkdir -p "$target"
    for file in "${files[@]}"; do
        python3 - "$wheel" "recbole/dataset_example/ml-100k/$file" "$target/$file" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, open(sys.argv[3], "wb") as out:
    out.write(wheel.read(sys.argv[2]))
PY
    done
    if ! verified; then
        echo "movielens.sh: the files in $target do not match the pinned digests" >&2
        exit 1
    fi
fi
echo "$target"
