#!/usr/bin/env bash
# What SQL capture costs on traffic that is not a database: sensor CPU and
# kernel program time per connection for 5,000 short HTTP-like loopback
# connections (`tcp-peer churn`), with capture off, on (the default, no
# probing) and on with --probe-payloads 8; ROUNDS alternating runs each.
# Run as root after `cargo build --release -p sensor -p aggregator -p tests --bins`.
#
#   tests/bench/capture-cost.sh [ROUNDS]
set -euo pipefail
R=${CARGO_TARGET_DIR:-$(dirname "$0")/../../target}/release
ROUNDS=${1:-3}
N=5000
sysctl -qw kernel.bpf_stats_enabled=1
D=$(mktemp -d)
trap 'kill $A 2>/dev/null; rm -rf "$D"' EXIT
"$R/aggregator" serve --listen 127.0.0.1:15501 --http-listen 127.0.0.1:15502 --data-dir "$D" > "$D/aggregator.log" 2>&1 &
A=$!
sleep 1
metric_sum() { curl -s 127.0.0.1:15503/metrics | awk -v name="$1" 'index($1, name) == 1 {s += $2} END {print s + 0}'; }
run() {
  local label=$1; shift
  "$R/sensor" --aggregator http://127.0.0.1:15501 --http-listen 127.0.0.1:15503 "$@" > "$D/sensor.log" 2>&1 &
  local S=$!
  for _ in $(seq 1 100); do curl -sf 127.0.0.1:15503/readyz > /dev/null && break; sleep 0.1; done
  sleep 1
  local k0 c0 k1 c1 rate records
  k0=$(metric_sum dataflow_sensor_kernel_program_run_time_ns_total)
  records=$(metric_sum dataflow_sensor_payloads_total)
  c0=$(awk '{print $14 + $15}' /proc/$S/stat)
  rate=$("$R/tcp-peer" churn $N)
  sleep 0.5
  k1=$(metric_sum dataflow_sensor_kernel_program_run_time_ns_total)
  c1=$(awk '{print $14 + $15}' /proc/$S/stat)
  records=$(( $(metric_sum dataflow_sensor_payloads_total) - records ))
  echo "$label: kernel $(( (k1 - k0) / N )) ns, sensor $(( (c1 - c0) * 1000000 / $(getconf CLK_TCK) / N )) us, payload records $(( records / N )) per connection ($rate)"
  kill $S; wait $S 2>/dev/null || true
}
for _ in $(seq 1 "$ROUNDS"); do
  run "capture off"
  run "capture on, default" --capture-bytes 512
  run "capture on, --probe-payloads 8" --capture-bytes 512 --probe-payloads 8
done
