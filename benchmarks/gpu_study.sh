#!/usr/bin/env bash
# The whole `gpu` study on one lent GPU, in one device call. Run from the repository root:
#
#     bash benchmarks/gpu_study.sh <git commit of this tree> [parallel (default 4)]
#
# with the Jupyter stack carried as wheels in .whl/ (the GPU image has no papermill, nbformat, nbclient, jupyter_client,
# ipykernel, pyzmq, ipython; the list with versions: benchmarks/gpu_wheels.txt, fetched as the device README says).
# Steps, all under one deadline (BUDGET_S, default 585 s: a device command may run 600 s):
#   1. install the wheels into /tmp/site (none needed when the image already has them);
#   2. python -m magvit.study --profile gpu --parallel N from an empty model cache: executed notebooks, CSVs, figures
#      and study_log.csv under results/gpu/ (stopped RESERVE_S, default 60 s, before the deadline);
#   3. in the time left (BENCH=1): benchmarks/bench_transformer_paths.py on the GPU at the gpu profile's B, batch 64:
#      stream vs token ids, fp32 vs bf16 (the target: >= 150 steps/s) -> results/gpu/diagnostics/;
#   4. results/gpu tarred into $OUT/gpu_results.tar.gz (the executed notebooks apart, gpu_notebooks.tar.gz), the logs
#      copied to $OUT, whatever happened before.
set -u
start=$(date +%s)
budget=${BUDGET_S:-585}
commit=${1:?usage: bash benchmarks/gpu_study.sh <git commit of this tree> [parallel]}
parallel=${2:-4}
profile=${PROFILE:-gpu}  # PROFILE=smoke PYTHON=.venv/bin/python: a dry run of this script on a CPU
py=${PYTHON:-python3}
out=${OUT:-/tmp/gpu_study_out}
mkdir -p "$out"
cd "$(dirname "$0")/.." || exit 1
log="$out/gpu_study.log"
exec > >(tee -a "$log") 2>&1

if compgen -G ".whl/*.whl" > /dev/null; then
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || { echo "wheel install failed"; exit 1; }
    export PYTHONPATH=/tmp/site:$PWD
else
    export PYTHONPATH=$PWD
fi
export MAGVIT_GIT_COMMIT=$commit MAGVIT_PROFILE=$profile
export MAGVIT_CACHE=${MAGVIT_CACHE:-/tmp/magvit_cache}  # an empty model cache: everything trains in this run
export JUPYTER_RUNTIME_DIR=/tmp/jupyter_runtime JUPYTER_DATA_DIR=/tmp/jupyter_data IPYTHONDIR=/tmp/ipython
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}  # up to 4 notebooks at once on 16 cores; clip workers use 1 thread each
export PYTHONUNBUFFERED=1
rm -rf "$MAGVIT_CACHE"

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/nvidia_smi.csv" 2>&1
"$py" -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda',
torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
"$py" -c "import papermill, nbformat, nbclient, jupyter_client, ipykernel, zmq, IPython" \
    || echo "WARNING: the Jupyter stack is incomplete: the study cannot run notebooks"

left() { echo $(( budget - ($(date +%s) - start) )); }

echo "== the $profile study, --parallel $parallel ($(left) s left)"
timeout $(( $(left) - ${RESERVE_S:-60} )) "$py" -m magvit.study --profile "$profile" --parallel "$parallel" --keep-going
status=$?
echo "== study exit $status after $(( $(date +%s) - start )) s"

# the pre-flight benchmark after the study, in the time left (the study comes first: it is what the claims need)
if [ "${BENCH:-1}" = 1 ] && [ "$(left)" -gt 40 ]; then
    echo "== transformer paths on the GPU ($(left) s left)"
    timeout $(( $(left) - 20 )) "$py" benchmarks/bench_transformer_paths.py --profile "$profile" --steps 40 \
        --warmup 10 --clips 1024 || echo "benchmark stopped (exit $?)"
fi

folder=$("$py" -c "from magvit.infra.paths import results_dir; print(results_dir('$profile'))")
cp "$folder/study_log.csv" "$out/" 2>/dev/null
# two archives: a device call returns files of at most 16 MB each (the executed notebooks carry their figures)
tar -czf "$out/gpu_results.tar.gz" --exclude="$(basename "$folder")/notebooks" -C "$(dirname "$folder")" \
    "$(basename "$folder")"
tar -czf "$out/gpu_notebooks.tar.gz" -C "$folder" notebooks
echo "== wrote $out/gpu_results.tar.gz ($(du -h "$out/gpu_results.tar.gz" | cut -f1)) and gpu_notebooks.tar.gz" \
     "($(du -h "$out/gpu_notebooks.tar.gz" | cut -f1)) after $(( $(date +%s) - start )) s"
exit $status
