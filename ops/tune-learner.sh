#!/usr/bin/env bash
# Chooses the online learner's hyperparameters on validation data only, never on test data.
#
#   ops/tune-learner.sh [GRID_FILE]
#
# Each line of GRID_FILE (default: the grid below) is one candidate: `key=value` pairs of the
# configuration's learner: section, separated by spaces (event weights as event_weights.view=…).
# Every candidate is scored by `loupe evaluate --offline --part validation` on six validation
# sets: MovieLens-100K by protocols B (leave-last-out) and A (temporal), and four generated
# worlds by protocol A — the default world, a popularity-skewed one, a noisy one and a larger
# catalog. For each set the score is NDCG@10 of the online learner divided by popularity's on
# the same set. The chosen candidate is the one with the highest geometric mean of the six ratios
# among those that beat popularity on every set (all ratios > 1); docs/benchmarks.md records the
# last run.
#
# Needs a release build (swift build -c release) and MovieLens-100K (ops/movielens.sh fetches it).
set -euo pipefail
cd "$(dirname "$0")/.."

loupe=.build/release/loupe
[ -x "$loupe" ] || { echo "tune-learner.sh: build first: swift build -c release" >&2; exit 1; }
movielens=$(ops/movielens.sh)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

grid="$scratch/grid"
if [ $# -gt 0 ]; then
    cp "$1" "$grid"
else
    for l2 in 0.03 0.1 0.3; do
        for rate in 0.05 0.1; do
            for negatives in 10 20; do
                for recent in 10 20; do
                    echo "l2=$l2 learning_rate=$rate negative_samples=$negatives recent_items=$recent"
                done
            done
        done
    done >"$grid"
fi

sets=(
    "movielens loo|--dataset movielens-100k --from $movielens --protocol loo"
    "movielens temporal|--dataset movielens-100k --from $movielens --protocol temporal"
    "generated|--dataset generated --protocol temporal"
    "generated skew 1.5|--dataset generated --protocol temporal --popularity-skew 1.5"
    "generated noise 3|--dataset generated --protocol temporal --noise 3"
    "generated 3000 items|--dataset generated --protocol temporal --items 3000 --users 4000 --events 400000"
)

# The learner: section of a candidate, as YAML.
configuration() {
    local file=$1
    shift
    echo "learner:" >"$file"
    local weights=""
    for pair in "$@"; do
        local key=${pair%%=*} value=${pair#*=}
        if [[ $key == event_weights.* ]]; then
            weights+="    ${key#event_weights.}: $value"$'\n'
        else
            echo "  $key: $value" >>"$file"
        fi
    done
    if [ -n "$weights" ]; then
        printf '  event_weights:\n%s' "$weights" >>"$file"
    fi
}

printf '%-24s' "set:" >&2
for set in "${sets[@]}"; do printf ' %-22s' "${set%%|*}" >&2; done
echo >&2
results="$scratch/results"
: >"$results"
while read -r line; do
    [ -n "$line" ] || continue
    # shellcheck disable=SC2086
    configuration "$scratch/candidate.yaml" $line
    ratios=()
    figures=()
    for set in "${sets[@]}"; do
        # shellcheck disable=SC2086
        table=$("$loupe" evaluate --offline --part validation --config "$scratch/candidate.yaml" ${set#*|})
        popularity=$(awk '$1 == "popularity" { print $5; exit }' <<<"$table")
        learner=$(awk '$1 == "online-bpr" { print $5; exit }' <<<"$table")
        figures+=("$learner/$popularity")
        ratios+=("$(awk -v a="$learner" -v b="$popularity" 'BEGIN { printf "%.4f", a / b }')")
    done
    summary=$(printf '%s\n' "${ratios[@]}" | awk '{ s += log($1); if (NR == 1 || $1 < m) m = $1 } END { printf "%.4f %.4f", exp(s / NR), m }')
    echo "$summary ${figures[*]} | $line" >>"$results"
    echo "geometric mean, min ratio $summary  NDCG learner/popularity: ${figures[*]}  | $line" >&2
done <"$grid"

echo
echo "candidates that beat popularity on every validation set, best first (geometric mean of the ratios, smallest ratio):"
awk '$2 > 1' "$results" | sort -k1,1gr
chosen=$(awk '$2 > 1' "$results" | sort -k1,1gr | head -n 1)
if [ -z "$chosen" ]; then
    echo "none: every candidate loses to popularity on some validation set" >&2
    exit 1
fi
echo
echo "chosen: ${chosen#*| }"
