"""Checks `ijepa export` with code independent of the C++: a safetensors reader, the key lists of
the three layouts written out, and a plain-PyTorch ViT forward whose pooled features must equal
`ijepa embed`'s on the same evaluation views.

Usage: python3 check_export.py IJEPA CHECKPOINT CONFIG IMAGE_FOLDER WORKDIR
Exports CHECKPOINT three ways (safetensors, timm, hf), reads each file with the reader below, checks
every name and shape, maps timm's and Hugging Face's names back, runs the forward below on the views
`ijepa embed --pixels` wrote and compares with `ijepa embed --checkpoint <export>` (f32: 1e-5). With
IJEPA_REFERENCE_DIR set to a facebookresearch/ijepa checkout, also the reference's own
VisionTransformer on the same weights. Prints "OK <max difference>" on success.
Debian's python3-torch (and numpy) only.
"""
import json, os, struct, subprocess, sys
import numpy as np
import torch
import yaml

ijepa, checkpoint, config_path, images, work = sys.argv[1:6]
DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16, "F64": torch.float64, "I64": torch.int64}


def read_safetensors(path):
    """name -> tensor, and the __metadata__ dict: the format's whole definition."""
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    body = data[8 + n:]
    out = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(body[begin:end]), dtype=DTYPES[e["dtype"]]) if end > begin else torch.empty(0)
        out[name] = t.reshape(e["shape"])
    return out, meta


def run(*args):
    subprocess.run([ijepa, *args], check=True, stdout=subprocess.DEVNULL)


cfg = yaml.safe_load(open(config_path))
D, depth, heads = cfg["meta"]["embed_dim"], cfg["meta"]["depth"], cfg["meta"]["num_heads"]
p, crop = cfg["mask"]["patch_size"], cfg["data"]["crop_size"]
N = (crop // p) ** 2


def ours_shapes():
    s = {"pos_embed": [1, N, D], "patch_embed.proj.weight": [D, 3, p, p], "patch_embed.proj.bias": [D],
         "norm.weight": [D], "norm.bias": [D]}
    for i in range(depth):
        b = f"blocks.{i}."
        s.update({b + "norm1.weight": [D], b + "norm1.bias": [D], b + "attn.qkv.weight": [3 * D, D],
                  b + "attn.qkv.bias": [3 * D], b + "attn.proj.weight": [D, D], b + "attn.proj.bias": [D],
                  b + "norm2.weight": [D], b + "norm2.bias": [D], b + "mlp.fc1.weight": [4 * D, D],
                  b + "mlp.fc1.bias": [4 * D], b + "mlp.fc2.weight": [D, 4 * D], b + "mlp.fc2.bias": [D]})
    return s


def timm_shapes():
    return {("fc_norm." + k[5:] if k.startswith("norm.") else k): v for k, v in ours_shapes().items()}


def hf_shapes():
    s = {"embeddings.position_embeddings": [1, N, D], "embeddings.patch_embeddings.projection.weight": [D, 3, p, p],
         "embeddings.patch_embeddings.projection.bias": [D], "layernorm.weight": [D], "layernorm.bias": [D]}
    for i in range(depth):
        l = f"encoder.layer.{i}."
        for w in ("weight", "bias"):
            s[l + f"layernorm_before.{w}"] = [D]
            s[l + f"layernorm_after.{w}"] = [D]
            for q in ("query", "key", "value"):
                s[l + f"attention.attention.{q}.{w}"] = [D, D] if w == "weight" else [D]
            s[l + f"attention.output.dense.{w}"] = [D, D] if w == "weight" else [D]
            s[l + f"intermediate.dense.{w}"] = [4 * D, D] if w == "weight" else [4 * D]
            s[l + f"output.dense.{w}"] = [D, 4 * D] if w == "weight" else [D]
    return s


def hf_to_ours(sd):
    m = {"embeddings.position_embeddings": "pos_embed", "layernorm.weight": "norm.weight", "layernorm.bias": "norm.bias",
         "embeddings.patch_embeddings.projection.weight": "patch_embed.proj.weight",
         "embeddings.patch_embeddings.projection.bias": "patch_embed.proj.bias"}
    out = {m[k]: v for k, v in sd.items() if k in m}
    for i in range(depth):
        l, b = f"encoder.layer.{i}.", f"blocks.{i}."
        for w in ("weight", "bias"):
            out[b + f"norm1.{w}"] = sd[l + f"layernorm_before.{w}"]
            out[b + f"norm2.{w}"] = sd[l + f"layernorm_after.{w}"]
            out[b + f"attn.qkv.{w}"] = torch.cat([sd[l + f"attention.attention.{q}.{w}"] for q in ("query", "key", "value")])
            out[b + f"attn.proj.{w}"] = sd[l + f"attention.output.dense.{w}"]
            out[b + f"mlp.fc1.{w}"] = sd[l + f"intermediate.dense.{w}"]
            out[b + f"mlp.fc2.{w}"] = sd[l + f"output.dense.{w}"]
    return out


def vit_features(sd, x):
    """A ViT forward from the weights alone: patch embedding, fixed position embedding, pre-norm
    blocks (LayerNorm eps 1e-6, exact GELU), final norm, mean over the patch tokens."""
    ln = lambda t, k: torch.nn.functional.layer_norm(t, (D,), sd[k + ".weight"], sd[k + ".bias"], 1e-6)
    x = torch.nn.functional.conv2d(x, sd["patch_embed.proj.weight"], sd["patch_embed.proj.bias"], stride=p)
    x = x.flatten(2).transpose(1, 2) + sd["pos_embed"]
    B, T, _ = x.shape
    for i in range(depth):
        b = f"blocks.{i}."
        h = ln(x, b + "norm1")
        qkv = torch.nn.functional.linear(h, sd[b + "attn.qkv.weight"], sd[b + "attn.qkv.bias"])
        q, k, v = qkv.reshape(B, T, 3, heads, D // heads).permute(2, 0, 3, 1, 4)
        a = ((q @ k.transpose(-2, -1)) * (D // heads) ** -0.5).softmax(-1) @ v
        x = x + torch.nn.functional.linear(a.transpose(1, 2).reshape(B, T, D), sd[b + "attn.proj.weight"], sd[b + "attn.proj.bias"])
        h = torch.nn.functional.gelu(torch.nn.functional.linear(ln(x, b + "norm2"), sd[b + "mlp.fc1.weight"], sd[b + "mlp.fc1.bias"]))
        x = x + torch.nn.functional.linear(h, sd[b + "mlp.fc2.weight"], sd[b + "mlp.fc2.bias"])
    return ln(x, "norm").mean(1)


os.makedirs(work, exist_ok=True)
paths = {"safetensors": f"{work}/enc.safetensors", "timm": f"{work}/enc-timm.safetensors", "hf": f"{work}/hf"}
for fmt, out in paths.items():
    run("export", checkpoint, "-c", config_path, "--to", fmt, "--out", out)
run("embed", "--pixels", "-c", config_path, "--data", images, "--out", f"{work}/pix", "-q")
views = torch.from_numpy(np.load(f"{work}/pix.npy")).reshape(-1, 3, crop, crop)

expected = {"safetensors": ours_shapes(), "timm": timm_shapes(), "hf": hf_shapes()}
worst = 0.0
for fmt, out in paths.items():
    sd, meta = read_safetensors(out if fmt != "hf" else f"{out}/model.safetensors")
    got = {k: list(v.shape) for k, v in sd.items()}
    assert set(got) == set(expected[fmt]), f"{fmt}: names differ: {sorted(set(got) ^ set(expected[fmt]))}"
    assert got == expected[fmt], f"{fmt}: shapes differ: {[(k, got[k], v) for k, v in expected[fmt].items() if got[k] != v]}"
    assert meta["encoder"] == "target" and meta["format"] == fmt and "config" in meta, f"{fmt}: metadata {list(meta)}"
    assert all(v.dtype == torch.float32 for v in sd.values()), f"{fmt}: not f32"
    ours = {"safetensors": lambda s: s, "timm": lambda s: {("norm." + k[8:] if k.startswith("fc_norm.") else k): v for k, v in s.items()},
            "hf": hf_to_ours}[fmt](sd)
    run("embed", "--checkpoint", out, "--data", images, "--out", f"{work}/feat-{fmt}", "-q")
    embedded = torch.from_numpy(np.load(f"{work}/feat-{fmt}.npy"))
    with torch.no_grad():
        mine = vit_features(ours, views)
    diff = (mine - embedded).abs().max().item()
    assert diff < 1e-5, f"{fmt}: the plain forward differs from ijepa embed by {diff}"
    worst = max(worst, diff)
    if fmt == "hf":
        c = json.load(open(f"{out}/config.json"))
        assert (c["model_type"], c["architectures"], c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"],
                c["intermediate_size"], c["image_size"], c["patch_size"], c["num_channels"], c["layer_norm_eps"],
                c["qkv_bias"], c["hidden_act"]) == ("ijepa", ["IJepaModel"], D, depth, heads, 4 * D, crop, p, 3, 1e-6, True, "gelu"), c
        pre = json.load(open(f"{out}/preprocessor_config.json"))
        assert pre["image_mean"] == [0.485, 0.456, 0.406] and pre["image_std"] == [0.229, 0.224, 0.225], pre
        assert pre["size"] == {"height": crop, "width": crop}, pre

checkout = os.environ.get("IJEPA_REFERENCE_DIR")
if checkout:  # the reference's own VisionTransformer on the exported weights
    from functools import partial
    sys.path.insert(0, checkout)
    from src.models import vision_transformer as vit
    enc = vit.VisionTransformer(img_size=[crop], patch_size=p, embed_dim=D, depth=depth, num_heads=heads, mlp_ratio=4,
                                qkv_bias=True, norm_layer=partial(torch.nn.LayerNorm, eps=1e-6))
    enc.load_state_dict(read_safetensors(paths["safetensors"])[0])
    with torch.no_grad():
        ref = enc(views).mean(1)
    diff = (ref - torch.from_numpy(np.load(f"{work}/feat-safetensors.npy"))).abs().max().item()
    print(f"reference VisionTransformer: max difference {diff:.3g}")
    assert diff < 1e-5, diff
print(f"OK {worst:.3g}")
