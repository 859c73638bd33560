#!/usr/bin/env python3
"""Writes tests/fixtures/ from the reference implementation (facebookresearch/ijepa).

Usage: /usr/bin/python3 scripts/make_fixtures.py REFERENCE_CHECKOUT ../shared/fixtures/official-tiny tests/fixtures

- mask_sizes.json: (target, context) block sizes of the reference MaskCollator for iterations 0..63
  on two grids, to hold the C++ sampler's size draw to the reference.
- train_step.pt: one reference training step (src/train.py's train_step, fp32, CPU) from the
  official-tiny checkpoint on its input and masks: loss and the updated weights of all three nets.
"""
import copy, json, sys
import torch
import torch.nn.functional as F
import yaml

ref, fixture, out = sys.argv[1:4]
sys.path.insert(0, ref)
from src.masks.multiblock import MaskCollator
from src.models import vision_transformer as vit
from src.helper import init_opt
from src.utils.tensors import repeat_interleave_batch
from src.masks.utils import apply_masks

sizes = {}
for name, crop, patch, min_keep in [("224_16", 224, 16, 10), ("32_4", 32, 4, 4)]:
    c = MaskCollator(input_size=(crop, crop), patch_size=patch, enc_mask_scale=(0.85, 1.0),
                     pred_mask_scale=(0.15, 0.2), aspect_ratio=(0.75, 1.5), nenc=1, npred=4, min_keep=min_keep)
    rows = []
    for itr in range(64):
        g = torch.Generator(); g.manual_seed(itr)
        p = c._sample_block_size(g, c.pred_mask_scale, c.aspect_ratio)
        e = c._sample_block_size(g, c.enc_mask_scale, (1., 1.))
        rows.append([list(p), list(e)])
    sizes[name] = rows
json.dump(sizes, open(f"{out}/mask_sizes.json", "w"))

cfg = yaml.safe_load(open(f"{fixture}/params-ijepa.yaml"))
r = torch.load(f"{fixture}/reference.pt")
ck = torch.load(f"{fixture}/checkpoint.pth.tar")
m = cfg["meta"]
enc = vit.VisionTransformer(img_size=[cfg["data"]["crop_size"]], patch_size=cfg["mask"]["patch_size"],
                            embed_dim=m["embed_dim"], depth=m["depth"], num_heads=m["num_heads"],
                            mlp_ratio=4, qkv_bias=True, norm_layer=vit.partial(torch.nn.LayerNorm, eps=1e-6))
pred = vit.VisionTransformerPredictor(num_patches=enc.patch_embed.num_patches, embed_dim=m["embed_dim"],
                                      predictor_embed_dim=m["pred_emb_dim"], depth=m["pred_depth"],
                                      num_heads=m["num_heads"], mlp_ratio=4, qkv_bias=True,
                                      norm_layer=vit.partial(torch.nn.LayerNorm, eps=1e-6))
strip = lambda sd: {k.replace("module.", "", 1): v for k, v in sd.items()}
enc.load_state_dict(strip(ck["encoder"])); pred.load_state_dict(strip(ck["predictor"]))
tgt = copy.deepcopy(enc); tgt.load_state_dict(strip(ck["target_encoder"]))
for p in tgt.parameters(): p.requires_grad = False
o = cfg["optimization"]
opt, _, sched, wd_sched = init_opt(enc, pred, iterations_per_epoch=5, start_lr=o["start_lr"], ref_lr=o["lr"],
                                   warmup=o["warmup"], num_epochs=o["epochs"], wd=o["weight_decay"],
                                   final_wd=o["final_weight_decay"], final_lr=o["final_lr"], ipe_scale=o["ipe_scale"])
opt.load_state_dict(ck["opt"])
lr, wd, mom = 5e-4, 0.05, 0.997
for g in opt.param_groups:
    g["lr"] = lr
    if not g.get("WD_exclude", False): g["weight_decay"] = wd
imgs = r["input"]
masks_enc = list(r["masks_enc"]); masks_pred = list(r["masks_pred"])
with torch.no_grad():
    h = tgt(imgs); h = F.layer_norm(h, (h.size(-1),)); B = len(h)
    h = repeat_interleave_batch(apply_masks(h, masks_pred), B, repeat=len(masks_enc))
z = pred(enc(imgs, masks_enc), masks_enc, masks_pred)
loss = F.smooth_l1_loss(z, h)
loss.backward(); opt.step(); opt.zero_grad()
with torch.no_grad():
    for q, k in zip(enc.parameters(), tgt.parameters()):
        k.data.mul_(mom).add_((1. - mom) * q.detach().data)
res = {"loss": loss.detach(), "lr": torch.tensor(lr, dtype=torch.float64), "wd": torch.tensor(wd, dtype=torch.float64),
       "momentum": torch.tensor(mom, dtype=torch.float64)}
for prefix, net in [("encoder.", enc), ("predictor.", pred), ("target_encoder.", tgt)]:
    for k, v in net.state_dict().items(): res[prefix + k] = v.clone()
torch.save(res, f"{out}/train_step.pt")
print("wrote", out, "loss", float(loss))
