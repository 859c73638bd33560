"""The reference's model and one training step (src/train.py's train_step, without DDP), shared by
bench/reference_bench.py and bench/reference_train.py. Import after the reference checkout is on
sys.path. reference_model: src.helper.init_model, with our schema's explicit encoder size
(meta.embed_dim/depth/num_heads) where the config gives it. reference_step: target forward +
layer_norm + apply_masks, context forward, predictor, smooth-L1 under `autocast`, backward
(through `scaler` when given: the reference's GradScaler on CUDA), AdamW, then the EMA of the
target encoder with `momentum`. Returns the loss tensor."""
import functools
import torch
import torch.nn.functional as F
import src.models.vision_transformer as vit
from src.helper import init_model
from src.masks.utils import apply_masks
from src.utils.tensors import repeat_interleave_batch


def reference_model(config, device):
    """The encoder and predictor init_model builds for CONFIG (a parsed params-ijepa.yaml)."""
    d, m, mk = config["data"], config["meta"], config["mask"]
    if "depth" in m:  # our schema's explicit size: registered under a name init_model can look up
        vit.workbench_vit = functools.partial(vit.VisionTransformer, embed_dim=m["embed_dim"], depth=m["depth"],
                                              num_heads=m["num_heads"], mlp_ratio=4, qkv_bias=True,
                                              norm_layer=functools.partial(torch.nn.LayerNorm, eps=1e-6))
    return init_model(device=device, patch_size=mk["patch_size"], crop_size=d["crop_size"],
                      pred_depth=m["pred_depth"], pred_emb_dim=m["pred_emb_dim"],
                      model_name="workbench_vit" if "depth" in m else m["model_name"])


def reference_step(enc, pred, tgt, opt, imgs, masks_enc, masks_pred, momentum, autocast, scaler=None):
    with autocast:
        with torch.no_grad():
            h = tgt(imgs)
            h = F.layer_norm(h, (h.size(-1),))
            h = repeat_interleave_batch(apply_masks(h, masks_pred), len(h), repeat=len(masks_enc))
        z = pred(enc(imgs, masks_enc), masks_enc, masks_pred)
        loss = F.smooth_l1_loss(z, h)
    if scaler is not None:
        scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
    else:
        loss.backward(); opt.step()
    opt.zero_grad()
    with torch.no_grad():
        for q, k in zip(enc.parameters(), tgt.parameters()):
            k.data.mul_(momentum).add_((1.0 - momentum) * q.detach().data)
    return loss
