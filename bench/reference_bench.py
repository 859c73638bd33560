#!/usr/bin/env python3
"""Times the reference I-JEPA training step (facebookresearch/ijepa, src/train.py) on synthetic images.

Usage: /usr/bin/python3 bench/reference_bench.py REFERENCE_CHECKOUT CONFIG.yaml [--steps N] [--warmup W]
       [--threads T] [--device cpu|cuda] [--bf16]
Same protocol as `ijepa bench`: masks pre-sampled, warm-up excluded; fp32, or on CUDA with
meta.use_bfloat16 bf16 autocast and the reference's GradScaler; on CPU, --bf16 puts the forward
passes under torch.autocast("cpu", dtype=torch.bfloat16) (what a Python user turns on; the reference
itself uses autocast on CUDA only). The step is the reference's
train_step without DDP: target forward + layer_norm, context forward, smooth-L1, backward, AdamW
with its param groups, per-parameter EMA loop.
"""
import argparse, ctypes, sys, time
import torch
import yaml

ap = argparse.ArgumentParser()
ap.add_argument("ref"); ap.add_argument("config")
ap.add_argument("--steps", type=int, default=10); ap.add_argument("--warmup", type=int, default=2)
ap.add_argument("--threads", type=int, default=0); ap.add_argument("--device", default="cpu")
ap.add_argument("--bf16", action="store_true")
a = ap.parse_args()
sys.path.insert(0, a.ref)
from src.helper import init_opt
from src.masks.multiblock import MaskCollator
import contextlib, copy, logging, os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_step import reference_model, reference_step
logging.disable(logging.INFO)

if a.threads > 0:
    torch.set_num_threads(a.threads)
c = yaml.safe_load(open(a.config))
d, m, mk = c["data"], c["meta"], c["mask"]
torch.manual_seed(0)
dev = torch.device(a.device)
bf16 = dev.type == "cuda" and bool(m.get("use_bfloat16", False))  # as src/train.py
cpu_bf16 = dev.type == "cpu" and a.bf16
enc, pred = reference_model(c, dev)
tgt = copy.deepcopy(enc)
for p in tgt.parameters(): p.requires_grad = False
opt, scaler, _, _ = init_opt(enc, pred, iterations_per_epoch=100, start_lr=1e-4, ref_lr=1e-4, warmup=0,
                             num_epochs=1, wd=0.04, final_wd=0.04, use_bfloat16=bf16)
col = MaskCollator(input_size=(d["crop_size"], d["crop_size"]), patch_size=mk["patch_size"],
                   enc_mask_scale=tuple(mk["enc_mask_scale"]), pred_mask_scale=tuple(mk["pred_mask_scale"]),
                   aspect_ratio=tuple(mk["aspect_ratio"]), nenc=mk["num_enc_masks"], npred=mk["num_pred_masks"],
                   min_keep=mk["min_keep"], allow_overlap=mk["allow_overlap"])
B = d["batch_size"]
total = a.warmup + a.steps


def openblas_core():
    """", OpenBLAS SkylakeX kernels" (what this process runs, core/cpu_blas.h), or "" without OpenBLAS."""
    try:
        f = ctypes.CDLL(None).openblas_get_corename
    except AttributeError:
        try:
            f = ctypes.CDLL("libopenblas.so.0").openblas_get_corename
        except (OSError, AttributeError):
            return ""
    f.restype = ctypes.c_char_p
    return f", OpenBLAS {f().decode()} kernels"


masks = [[[t.to(dev) for t in ms] for ms in col([torch.zeros(1)] * B)[1:]] for _ in range(total)]
imgs = torch.randn(B, 3, d["crop_size"], d["crop_size"], device=dev)
print(f"reference: {m['model_name']} ({enc.embed_dim}/{len(enc.blocks)}/{enc.num_heads}), crop {d['crop_size']}, patch {mk['patch_size']}, predictor "
      f"{m['pred_emb_dim']}/{m['pred_depth']}, batch {B}, {torch.get_num_threads()} threads, {dev}{', bf16 autocast' if bf16 or cpu_bf16 else ', fp32'}, "
      f"torch {torch.__version__}{openblas_core()}")
for i in range(total):
    if i == a.warmup:
        t0 = time.perf_counter()
    masks_enc, masks_pred = masks[i]
    loss = reference_step(enc, pred, tgt, opt, imgs, masks_enc, masks_pred, 0.996,
                          torch.autocast(dev.type, dtype=torch.bfloat16) if bf16 or cpu_bf16 else contextlib.nullcontext(),
                          scaler if bf16 else None)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    print(f"\r  step {i + 1}/{total}", end="", file=sys.stderr, flush=True)
dt = time.perf_counter() - t0
print("", file=sys.stderr)
print(f"steps {a.steps} in {dt:.3f} s: {dt / a.steps * 1000:.1f} ms/step, {a.steps * B / dt:.1f} img/s (final loss {float(loss):.4f})")
