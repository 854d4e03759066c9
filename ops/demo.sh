#!/usr/bin/env bash
# Runs Loupe as it stands, end to end, on the embedded log (no Kafka needed):
# generate a synthetic eyewear world, produce it (with a few malformed lines, which land in
# dead-letter), tail it back, print per-topic counts, learn it online, score the learned state
# against the world's planted preferences next to popularity, and rebuild it by replay.
# Usage: ops/demo.sh [--events N]   (default 100000); data goes to ./loupe-data/demo, wiped first.
set -euo pipefail
cd "$(dirname "$0")/.."

events=100000
if [ "${1:-}" = "--events" ]; then events="$2"; fi

ops/bootstrap.sh
echo "== building Loupe (release)" >&2
swift build -c release 2>&1 | grep -vE "^(\[|Building|Compiling|Write|Planning)" >&2 || true
loupe=".build/release/loupe"
[ -x "$loupe" ] || { echo "demo: build failed" >&2; exit 1; }

data="loupe-data/demo"
rm -rf "$data"
mkdir -p "$data"
log=(--data "$data")

step() { printf '\n== %s\n' "$*"; }

step "create the topics (embedded log in $data)"
"$loupe" topics apply "${log[@]}"

step "generate a world of $events events (seed 1) and produce it, with 3 malformed lines mixed in"
{
    "$loupe" generate --events "$events" --seed 1 --truth "$data/truth.jsonl"
    echo '{"event_id":"oops-1","schema_version":1,"type":"click","timestamp":1767225600000,"user_id":"user-000001"}'
    echo '{"event_id":"oops-2","schema_version":1,"type":"face_analysis","timestamp":1767225600000,"user_id":"user-000002","face_shape":"triangle","measurements":{"face_length_mm":190,"forehead_width_mm":130,"cheekbone_width_mm":135,"jaw_width_mm":120,"pupillary_distance_mm":63},"confidence":0.9}'
    echo 'this is not JSON'
} | "$loupe" produce "${log[@]}"

step "topics, partitions and offsets"
"$loupe" topics list "${log[@]}"

step "the first three interactions, with their partition and offset"
"$loupe" tail --topic interactions --from-beginning --max 3 --metadata "${log[@]}"

step "what went to dead-letter, and why"
"$loupe" tail --topic dead-letter --from-beginning --until-end "${log[@]}" | python3 -c "$(cat <<'PY'
import json, sys
for line in sys.stdin:
    record = json.loads(line)
    field = f" ({record['field']})" if record.get("field") else ""
    print(f"  {record['location']}: {record['reason_code']}{field}: {record['reason']}")
PY
)"

step "per-topic counts, read back with loupe tail"
total=0
for topic in catalog face-analysis sessions interactions feedback impressions model-events eval-metrics drift-alerts dead-letter learner-batches; do
    count=$("$loupe" tail --topic "$topic" --from-beginning --until-end "${log[@]}" | wc -l)
    printf '  %-14s %8d\n' "$topic" "$count"
    total=$((total + count))
done
printf '  %-14s %8d  (%d generated + 3 malformed)\n' "total" "$total" "$events"

step "the ground truth of the world: a few users, their face shape and planted best styles"
grep -m 5 '"kind":"user"' "$data/truth.jsonl" | python3 -c "$(cat <<'PY'
import json, sys
for line in sys.stdin:
    user = json.loads(line)
    print(f"  {user['user_id']}: {user['face_shape']:8} best styles {', '.join(user['best_styles'])}")
PY
)"

step "learn the log online (loupe learn --until-end)"
"$loupe" learn --until-end "${log[@]}"
"$loupe" store stats "${log[@]}" | head -20

step "how well the learned state recovers the planted preferences"
"$loupe" evaluate --truth "$data/truth.jsonl" "${log[@]}"

step "rebuild the state by replaying the log into a fresh store, and compare checksums"
rm -rf "$data-replayed"
"$loupe" replay --data "$data-replayed" --log-data "$data"
live=$("$loupe" store checksum "${log[@]}")
replayed=$("$loupe" store checksum --data "$data-replayed")
echo "  live      $live"
echo "  replayed  $replayed"
[ "$live" = "$replayed" ] && echo "  identical" || { echo "  DIFFERENT" >&2; exit 1; }
