#!/usr/bin/env bash
# Every benchmark, in order; each prints its machine line and measured ratios. Needs the test venv
# (bash scripts/test.sh creates it) for the browser benchmark. Pass --device cuda to use a GPU.
set -euo pipefail
cd "$(dirname "$0")"
PY=../.venv/bin/python
$PY bench_training.py "$@"
echo
$PY bench_ingest.py
echo
$PY bench_small_fit.py
echo
$PY bench_analyst_scale.py  # 2M rows × 12 columns (158 MiB of CSV, made in a temporary folder)
echo
$PY bench_app.py
echo
$PY bench_scaling.py  # 20M rows of Parquet in /tmp/linreg-scaling (1.8 GB, made once); --rows for fewer
echo
$PY bench_waits.py  # issue 25's rows: CSV, exact fit, statistics, CLI, out of core against their anchors
