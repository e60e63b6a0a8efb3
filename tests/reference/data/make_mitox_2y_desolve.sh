#!/usr/bin/env bash
# Regenerate tests/reference/data/mitox_2y_desolve_n50.csv, the deSolve golden file for the
# mitox-2y workload (50 patients, seed 20240601), from the shared peer ../shared/bench/peer_desolve.R.
#
#   bash tests/reference/data/make_mitox_2y_desolve.sh        (from anywhere; about 2 minutes)
#
# Needs: ../shared/bench (relative to the repository root), python3 with numpy and scipy,
# Rscript with deSolve (Debian: r-base-core r-cran-desolve).
#
# Steps, all in a temporary directory (nothing is written into ../shared or the repo but the golden file):
#   1. the population CSV:   python3 workload.py 50 --seed 20240601 --out TMP/pop.csv
#   2. the golden solve:     Rscript peer_desolve.R 50 ... --rtol 1e-10 --atol 1e-12
#      (if deSolve warns, e.g. "excessive amount of work", it is rerun with --atol 1e-10, as the
#       peer's maxsteps cannot be raised without editing it; the header says which was used)
#   3. a convergence check:  the same with rtol and atol ten times smaller; the nadirs must agree
#      to MAX_CONVERGENCE_ERR (relative) or the script fails
#   4. an independent check: SciPy LSODA (peer_scipy.py) at rtol 1e-10, atol 1e-12
#   5. the golden file: '# ' header lines (provenance and the measured agreement), then the
#      peer's CSV byte for byte.
set -euo pipefail

N=50
SEED=20240601
RTOL=1e-10
ATOL=1e-12
RTOL_CHECK=1e-11
ATOL_CHECK=1e-13
MAX_CONVERGENCE_ERR=5e-9   # "about 1e-9": measured 1.3e-9 at N=50 (rtol 1e-12 confirms it)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
golden="$here/mitox_2y_desolve_n50.csv"
script_rel="tests/reference/data/$(basename "${BASH_SOURCE[0]}")"

if [[ ! -d "$repo/../shared/bench" ]]; then
    echo "make_mitox_2y_desolve.sh: $repo/../shared/bench not found; the shared benchmark folder" \
         "(workload.py, peer_desolve.R, peer_scipy.py, compare.py) must sit beside the repository." >&2
    exit 1
fi
bench=$(cd "$repo/../shared/bench" && pwd)
for tool in python3 Rscript R; do
    command -v "$tool" >/dev/null || { echo "make_mitox_2y_desolve.sh: '$tool' not found on PATH." >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The peers resolve nothing relative to their own folder once --pop/--out are absolute, but
# peer_desolve.R falls back to `python3 workload.py` relative to the working directory, so run there.
cd "$bench"

echo "[1/5] population (n=$N, seed=$SEED)" >&2
python3 workload.py "$N" --seed "$SEED" --out "$tmp/pop.csv"

run_desolve() {  # run_desolve RTOL ATOL OUT -> 0 if deSolve printed no warning; exits if R fails
    local log="$3.log" rc=0
    Rscript peer_desolve.R "$N" --seed "$SEED" --pop "$tmp/pop.csv" --out "$3" \
        --rtol "$1" --atol "$2" >"$log" 2>&1 || rc=$?
    cat "$log" >&2
    if [[ $rc -ne 0 ]]; then
        echo "make_mitox_2y_desolve.sh: peer_desolve.R failed (exit $rc)" >&2
        exit 1
    fi
    ! grep -qiE 'warning|excessive|mxstep' "$log"
}

echo "[2/5] deSolve lsoda rtol=$RTOL atol=$ATOL" >&2
atol_note="atol $ATOL as asked"
if ! run_desolve "$RTOL" "$ATOL" "$tmp/desolve.csv"; then
    atol_note="deSolve warned at atol $ATOL (see log above); atol 1e-10 used instead"
    ATOL=1e-10
    ATOL_CHECK=1e-11
    echo "      deSolve warned; rerunning with atol=$ATOL" >&2
    run_desolve "$RTOL" "$ATOL" "$tmp/desolve.csv" || { echo "deSolve still warns at atol $ATOL" >&2; exit 1; }
fi
desolve_line=$(grep '^peer=' "$tmp/desolve.csv.log")

echo "[3/5] convergence check: deSolve lsoda rtol=$RTOL_CHECK atol=$ATOL_CHECK" >&2
run_desolve "$RTOL_CHECK" "$ATOL_CHECK" "$tmp/desolve_check.csv" \
    || { echo "deSolve warned at the check tolerances" >&2; exit 1; }

echo "[4/5] SciPy LSODA rtol=$RTOL atol=$ATOL" >&2
python3 peer_scipy.py "$N" --seed "$SEED" --rtol "$RTOL" --atol "$ATOL" --out "$tmp/scipy.csv" | tee "$tmp/scipy.log" >&2

python3 compare.py "$tmp/desolve_check.csv" "$tmp/desolve.csv" --seed "$SEED" --json "$tmp/conv.json" >&2
python3 compare.py "$tmp/desolve.csv" "$tmp/scipy.csv" --seed "$SEED" --json "$tmp/scipy.json" >&2

# One line of agreement from compare.py's JSON: "max rel err nadir 1.2e-10, vs dip depth ..., ..."
summary() {
    python3 - "$1" <<'EOF'
import json, sys
m = next(iter(json.load(open(sys.argv[1]))["results"].values()))
print(f"max rel err nadir {m['max_rel_err_nadir']:.2e}, max err / dip depth {m['max_rel_err_depth']:.2e}, "
      f"first-nadir-day mismatches {m['first_nadir_day_mismatches']} of {m['n']}")
EOF
}
conv=$(summary "$tmp/conv.json")
agree=$(summary "$tmp/scipy.json")
python3 - "$tmp/conv.json" "$MAX_CONVERGENCE_ERR" <<'EOF'
import json, sys
m = next(iter(json.load(open(sys.argv[1]))["results"].values()))
if m["max_rel_err_nadir"] > float(sys.argv[2]) or m["first_nadir_day_mismatches"]:
    sys.exit(f"deSolve has not converged: {m}; not writing the golden file")
EOF

echo "[5/5] writing $golden" >&2
r_version=$(R --version | head -n 1)
desolve_version=$(Rscript -e 'cat(as.character(packageVersion("deSolve")))')
py_versions=$(python3 -c 'import sys, numpy, scipy; print(f"Python {sys.version.split()[0]}, NumPy {numpy.__version__}, SciPy {scipy.__version__}")')
sha() { sha256sum "$1" | cut -d' ' -f1; }
{
    echo "# mitox-2y golden file: per-patient leukocyte nadirs from R deSolve::lsoda (peer_desolve.R), $N patients"
    echo "# Columns: id, bsa_m2 (m2), dose_mg (mg), nadir_1..nadir_8 (Circ, 10^9/L, smallest daily-grid value per dosing interval), first_nadir_day (day)"
    echo "# Regenerate with: bash $script_rel   (sha256 $(sha "$here/$(basename "${BASH_SOURCE[0]}")"))"
    echo "# Generating commands (run in ../shared/bench, outputs in a temp dir):"
    echo "#   python3 workload.py $N --seed $SEED --out TMP/pop.csv"
    echo "#   Rscript peer_desolve.R $N --seed $SEED --pop TMP/pop.csv --out TMP/out.csv --rtol $RTOL --atol $ATOL"
    echo "# Peer script: ../shared/bench/peer_desolve.R sha256 $(sha peer_desolve.R)"
    echo "# Population:  ../shared/bench/workload.py sha256 $(sha workload.py)"
    echo "# R: $r_version"
    echo "# deSolve: $desolve_version"
    echo "# Tolerances: rtol $RTOL, atol $ATOL ($atol_note); seed $SEED; N $N"
    echo "# Peer output: $desolve_line"
    echo "# Convergence (deSolve rtol $RTOL_CHECK atol $ATOL_CHECK as reference, compare.py): $conv"
    echo "# Agreement with SciPy LSODA rtol $RTOL atol $ATOL (peer_scipy.py; $py_versions; this file as reference, compare.py): $agree"
    echo "# Values as R's write.csv printed them (15 significant digits)."
    echo "# Date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    cat "$tmp/desolve.csv"
} >"$tmp/golden.csv"
mv "$tmp/golden.csv" "$golden"
echo "done: $golden" >&2
