"""Loads a checkpoint written by ijepa into PyTorch the way the reference does.

Usage: python3 check_checkpoint.py OURS.pth.tar REFERENCE.pth.tar
torch.load, then load_state_dict (strict) of encoder, predictor and target_encoder into modules
with the reference's parameter names and shapes, and the optimiser state into torch.optim.AdamW
with the reference's four groups. If IJEPA_REFERENCE_DIR names a facebookresearch/ijepa checkout,
its own classes are used; otherwise the module trees are built from the reference checkpoint's keys.
Prints one line "OK <sum of encoder weights>" on success.
"""
import os
import sys
import torch

ours_path, ref_path = sys.argv[1:3]
ours = torch.load(ours_path, map_location="cpu")
ref = torch.load(ref_path, map_location="cpu")
for key in ["encoder", "predictor", "target_encoder", "opt", "scaler", "epoch", "loss", "batch_size", "world_size", "lr"]:
    assert key in ours, f"missing key {key}"


def tree_from(state_dict):
    root = torch.nn.Module()
    for name, value in state_dict.items():
        parts = name.split(".")
        node = root
        for p in parts[:-1]:
            if not hasattr(node, p):
                node.add_module(p, torch.nn.Module())
            node = getattr(node, p)
        node.register_parameter(parts[-1], torch.nn.Parameter(torch.zeros_like(value)))
    return root


def reference_nets(checkout, config_path):
    """The reference's own VisionTransformer and predictor, sized by the fixture's config."""
    import yaml
    from functools import partial
    sys.path.insert(0, checkout)
    from src.models import vision_transformer as vit
    c = yaml.safe_load(open(config_path))
    m, crop, patch = c["meta"], c["data"]["crop_size"], c["mask"]["patch_size"]
    norm = partial(torch.nn.LayerNorm, eps=1e-6)
    make_enc = lambda: vit.VisionTransformer(img_size=[crop], patch_size=patch, embed_dim=m["embed_dim"], depth=m["depth"],
                                             num_heads=m["num_heads"], mlp_ratio=4, qkv_bias=True, norm_layer=norm)
    enc = make_enc()
    pred = vit.VisionTransformerPredictor(num_patches=enc.patch_embed.num_patches, embed_dim=m["embed_dim"],
                                          predictor_embed_dim=m["pred_emb_dim"], depth=m["pred_depth"],
                                          num_heads=m["num_heads"], mlp_ratio=4, qkv_bias=True, norm_layer=norm)
    return {"encoder": enc, "predictor": pred, "target_encoder": make_enc()}


strip = lambda sd: {k[len("module."):] if k.startswith("module.") else k: v for k, v in sd.items()}
names = ["encoder", "predictor", "target_encoder"]
for k in names:
    assert all(n.startswith("module.") for n in ours[k]), f"{k}: keys lack the reference's 'module.' prefix"
ours_sd = {k: strip(ours[k]) for k in names}
ref_sd = {k: strip(ref[k]) for k in names}
checkout = os.environ.get("IJEPA_REFERENCE_DIR")
if checkout:
    nets = reference_nets(checkout, os.path.join(os.path.dirname(ref_path), "params-ijepa.yaml"))
    print("using the reference classes from", checkout, file=sys.stderr)
else:
    nets = {k: tree_from(ref_sd[k]) for k in names}
for k, net in nets.items():
    net.load_state_dict(ours_sd[k], strict=True)
    for name, p in net.named_parameters():
        assert p.shape == ref_sd[k][name].shape, name

def groups(enc, pred):
    f = lambda net, decay: [p for n, p in net.named_parameters() if (("bias" not in n) and len(p.shape) != 1) == decay]
    return [{"params": f(enc, True)}, {"params": f(pred, True)},
            {"params": f(enc, False), "WD_exclude": True, "weight_decay": 0},
            {"params": f(pred, False), "WD_exclude": True, "weight_decay": 0}]

opt = torch.optim.AdamW(groups(nets["encoder"], nets["predictor"]))
opt.load_state_dict(ours["opt"])
assert [len(g["params"]) for g in opt.param_groups] == [len(g["params"]) for g in ref["opt"]["param_groups"]]
total = sum(float(v.double().sum()) for v in ours["encoder"].values())
print("OK %.9e" % total)
