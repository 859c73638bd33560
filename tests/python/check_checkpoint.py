"""Loads a checkpoint written by ijepa into PyTorch the way the reference does.

Usage: python3 check_checkpoint.py OURS.pth.tar REFERENCE.pth.tar
torch.load, then load_state_dict (strict) of encoder, predictor and target_encoder into modules
with the reference's parameter names and shapes, and the optimiser state into torch.optim.AdamW
with the reference's four groups. If IJEPA_REFERENCE_DIR names a facebookresearch/ijepa checkout,
its own classes are used; otherwise the module trees are built from the reference checkpoint's keys.
Prints one line "OK <sum of encoder weights>" on success.
"""
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


nets = {k: tree_from(ref[k]) for k in ["encoder", "predictor", "target_encoder"]}
for k, net in nets.items():
    net.load_state_dict(ours[k], strict=True)
    for name, p in net.named_parameters():
        assert p.shape == ref[k][name].shape, name

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
