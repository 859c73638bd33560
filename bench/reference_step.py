"""One training step of the reference (src/train.py's train_step, without DDP), shared by
bench/reference_bench.py and bench/reference_train.py. Import after the reference checkout is on
sys.path: target forward + layer_norm + apply_masks, context forward, predictor, smooth-L1 under
`autocast`, backward (through `scaler` when given: the reference's GradScaler on CUDA), AdamW,
then the EMA of the target encoder with `momentum`. Returns the loss tensor."""
import torch
import torch.nn.functional as F
from src.masks.utils import apply_masks
from src.utils.tensors import repeat_interleave_batch


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
