#pragma once
// The config schema: every key once, in its section, with its meaning and range. Parsing, dumping,
// overrides, the config editor, `ijepa config keys` and docs/reference/config.md all walk this
// table (defaults are the members' initialisers in core/config.h). Internal to core/config.cpp
// and the code that documents it.
#include "core/config.h"

#include <type_traits>

namespace ijepa::schema {

// Calls fn(section, key, member) or, where fn takes a fourth argument, fn(section, key, member, doc).
template <class C, class Fn>
void forEachField(C& c, Fn&& fn)
{
    const auto f = [&](const char* section, const char* key, auto& member, const char* doc) {
        if constexpr (std::is_invocable_v<Fn&, const char*, const char*, decltype(member), const char*>)
            fn(section, key, member, doc);
        else
            fn(section, key, member);
    };
    f("data", "batch_size", c.data.batch_size, "images per batch per process; > 0");
    f("data", "color_jitter_strength", c.data.color_jitter_strength, "reference key, read and kept; no colour jitter is applied");
    f("data", "crop_scale", c.data.crop_scale, "RandomResizedCrop's area range, each in [0, 1]");
    f("data", "crop_size", c.data.crop_size, "square input side in pixels; > 0, a multiple of mask.patch_size");
    f("data", "image_folder", c.data.image_folder, "image folder, relative to data.root_path (when --data is not given)");
    f("data", "num_workers", c.data.num_workers, "loader threads decoding images; >= 0");
    f("data", "pin_mem", c.data.pin_mem, "pinned host memory for CUDA copies");
    f("data", "root_path", c.data.root_path, "data root (when --data is not given)");
    f("data", "use_color_distortion", c.data.use_color_distortion, "reference key, read and kept; off in every reference config");
    f("data", "use_gaussian_blur", c.data.use_gaussian_blur, "reference key, read and kept; off in every reference config");
    f("data", "use_horizontal_flip", c.data.use_horizontal_flip, "reference key, read and kept; off in every reference config");
    f("logging", "folder", c.logging.folder, "where logs and checkpoints go (when --out is not given)");
    f("logging", "write_tag", c.logging.write_tag, "file name prefix: <tag>_r0.csv, <tag>-latest.pth.tar");
    f("mask", "allow_overlap", c.mask.allow_overlap, "let the context block overlap the target blocks");
    f("mask", "aspect_ratio", c.mask.aspect_ratio, "target block aspect ratio range (h/w), both > 0");
    f("mask", "enc_mask_scale", c.mask.enc_mask_scale, "context block area range, fractions of the patch grid in [0, 1]");
    f("mask", "min_keep", c.mask.min_keep, "a mask keeps strictly more patches than this; >= 0");
    f("mask", "num_enc_masks", c.mask.num_enc_masks, "context blocks per image; >= 1");
    f("mask", "num_pred_masks", c.mask.num_pred_masks, "target blocks per image; >= 1");
    f("mask", "patch_size", c.mask.patch_size, "ViT patch side in pixels; divides data.crop_size, leaving a grid of at least 2x2");
    f("mask", "position_mode", c.mask.position_mode,
      "extension: faithful (the reference: no block touches the grid's last row or column) | corrected");
    f("mask", "pred_mask_scale", c.mask.pred_mask_scale, "target block area range, fractions of the patch grid in [0, 1]");
    f("mask", "sampler", c.mask.sampler, "extension: multiblock (the reference) | random | block | rasterized");
    f("mask", "truncation", c.mask.truncation,
      "extension: prefix (the reference: masks cut to the batch's shortest keep their first patches, so a cut context loses its bottom rows) | random (a random subset of that size)");
    f("meta", "copy_data", c.meta.copy_data, "reference key, read and kept; unused");
    f("meta", "cpu_bf16", c.meta.cpu_bf16, "extension, with use_bfloat16 on a CPU: auto (bf16 products where measured faster than fp32) | always (bf16 even where slower: its numerics on any CPU)");
    f("meta", "depth", c.meta.depth, "extension: encoder depth, overriding meta.model_name's; ~ for the preset's");
    f("meta", "embed_dim", c.meta.embed_dim,
      "extension: encoder width, overriding meta.model_name's; a multiple of 4 and of num_heads; ~ for the preset's");
    f("meta", "load_checkpoint", c.meta.load_checkpoint, "resume from meta.read_checkpoint or <tag>-latest.pth.tar");
    f("meta", "model_name", c.meta.model_name, "vit_tiny | vit_small | vit_base | vit_large | vit_huge | vit_giant");
    f("meta", "num_heads", c.meta.num_heads, "extension: attention heads, overriding meta.model_name's; ~ for the preset's");
    f("meta", "pred_depth", c.meta.pred_depth, "predictor blocks; >= 1");
    f("meta", "pred_emb_dim", c.meta.pred_emb_dim, "predictor width; a multiple of 4 and of the encoder's num_heads");
    f("meta", "read_checkpoint", c.meta.read_checkpoint, "checkpoint to resume from; ~ for <tag>-latest.pth.tar");
    f("meta", "seed", c.meta.seed, "extension: seed of the weights, the data order, the crops and the masks");
    f("meta", "use_bfloat16", c.meta.use_bfloat16, "bf16 autocast on CUDA; bf16 products on CPUs that multiply bf16 faster");
    f("optimization", "ema", c.optimization.ema, "EMA momentum of the target encoder at the start and the end, linear between; 0 <= start <= end <= 1");
    f("optimization", "epochs", c.optimization.epochs, "training epochs; > 0");
    f("optimization", "final_lr", c.optimization.final_lr, "learning rate at the end of the cosine; >= 0");
    f("optimization", "final_weight_decay", c.optimization.final_weight_decay, "weight decay at the end of the cosine; >= 0");
    f("optimization", "ipe_scale", c.optimization.ipe_scale, "the schedules span ipe_scale x epochs x iterations per epoch; > 0");
    f("optimization", "lr", c.optimization.lr, "peak learning rate, reached at the end of warmup; >= 0");
    f("optimization", "start_lr", c.optimization.start_lr, "learning rate at step 0; >= 0");
    f("optimization", "warmup", c.optimization.warmup, "warmup length in epochs; >= 0");
    f("optimization", "weight_decay", c.optimization.weight_decay, "weight decay at step 0 (cosine to final_weight_decay); >= 0");
    f("loss", "projector_dim", c.loss.projector_dim, "extension: the projector's output width; 1..65536");
    f("loss", "projector_hidden", c.loss.projector_hidden,
      "extension: the projector's hidden width (Linear-BN-ReLU twice, then Linear); 1..65536");
    f("loss", "sigreg_knots", c.loss.sigreg_knots, "extension: SIGReg's trapezoid knots on [0, 3]; 2..10000");
    f("loss", "sigreg_on", c.loss.sigreg_on,
      "extension: context_pooled (the mean of the context encoder's tokens) | context_tokens | projector (LeJEPA's head)");
    f("loss", "sigreg_slices", c.loss.sigreg_slices, "extension: SIGReg's random 1-D projections per step; 1..65536");
    f("loss", "sigreg_weight", c.loss.sigreg_weight,
      "extension: loss = (1 - w) JEPA + w SIGReg, w in [0, 1); 0 is the reference's loss, bitwise");
}

} // namespace ijepa::schema
