#include "core/config.h"
#include "core/errors.h"
#include "tests/core/test_support.h"

#include <fstream>

using namespace ijepa;

namespace {

// Expects ConfigError whose message names `key`.
void expectRejected(const std::string& yaml, const std::string& key)
{
    try {
        parseConfig(yaml, "test.yaml");
        FAIL() << "accepted: " << yaml;
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("test.yaml"), std::string::npos) << e.what();
    }
}

} // namespace

TEST(Config, ReadsTheFixtureSchema)
{
    const Config c = loadConfig(test::sharedFixture("official-tiny/params-ijepa.yaml"));
    EXPECT_EQ(c.data.batch_size, 4);
    EXPECT_EQ(c.data.crop_size, 64);
    EXPECT_EQ(c.mask.patch_size, 8);
    EXPECT_EQ(c.mask.min_keep, 2);
    EXPECT_EQ(c.gridSize(), 8);
    EXPECT_EQ(c.encoderSize().embed_dim, 64);
    EXPECT_EQ(c.encoderSize().depth, 2);
    EXPECT_EQ(c.encoderSize().num_heads, 2);
    EXPECT_EQ(c.meta.pred_emb_dim, 32);
    EXPECT_FALSE(c.meta.read_checkpoint.has_value());
    EXPECT_DOUBLE_EQ(c.optimization.final_weight_decay, 0.4);
    EXPECT_DOUBLE_EQ(c.optimization.warmup, 2.0);
    EXPECT_DOUBLE_EQ(c.data.crop_scale[0], 0.3);
}

TEST(Config, LoadsReferenceVitH14ConfigUnchanged)
{
    const Config c = loadConfig(test::testFixture("in1k_vith14_ep300.yaml"));
    EXPECT_EQ(c.meta.model_name, "vit_huge");
    EXPECT_EQ(c.encoderSize().embed_dim, 1280);
    EXPECT_EQ(c.encoderSize().depth, 32);
    EXPECT_EQ(c.mask.patch_size, 14);
    EXPECT_EQ(c.gridSize(), 16);
    EXPECT_EQ(c.optimization.epochs, 300);
    EXPECT_TRUE(c.meta.use_bfloat16);
}

TEST(Config, DumpThenParseRoundTrips)
{
    Config c = loadConfig(test::sharedFixture("official-tiny/params-ijepa.yaml"));
    c.meta.read_checkpoint = "x.pth.tar";
    c.mask.position_mode = "corrected";
    const Config back = parseConfig(dumpConfig(c));
    EXPECT_EQ(dumpConfig(back), dumpConfig(c));
    EXPECT_EQ(back.meta.read_checkpoint.value(), "x.pth.tar");
    EXPECT_EQ(back.mask.position_mode, "corrected");
    EXPECT_DOUBLE_EQ(back.optimization.start_lr, c.optimization.start_lr);
}

TEST(Config, OverridesApplyAndValidate)
{
    Config c;
    applyOverride(c, "data.batch_size=16");
    applyOverride(c, "mask.pred_mask_scale=[0.1, 0.3]");
    EXPECT_EQ(c.data.batch_size, 16);
    EXPECT_DOUBLE_EQ(c.mask.pred_mask_scale[1], 0.3);
    EXPECT_THROW(applyOverride(c, "data.nope=1"), ConfigError);
    EXPECT_THROW(applyOverride(c, "data.batch_size=abc"), ConfigError);
    EXPECT_THROW(applyOverride(c, "batch_size"), ConfigError);
    applyOverride(c, "data.crop_size=32"); // valid only together with the next override
    applyOverride(c, "mask.patch_size=4");
    applyOverride(c, "mask.min_keep=4");
    EXPECT_NO_THROW(validateConfig(c));
    applyOverride(c, "data.batch_size=-1");
    EXPECT_THROW(validateConfig(c), ConfigError);
}

TEST(Config, BadValuesNameTheirKey)
{
    expectRejected("data: {crop_size: 30}\nmask: {patch_size: 4}", "mask.patch_size");
    expectRejected("data: {batch_size: 0}", "data.batch_size");
    expectRejected("data: {batch_size: many}", "data.batch_size");
    expectRejected("mask: {pred_mask_scale: [0.3, 0.2]}", "mask.pred_mask_scale");
    expectRejected("mask: {enc_mask_scale: [0.0, 1.0]}", "mask.enc_mask_scale");
    expectRejected("mask: {enc_mask_scale: [0.5, 1.2]}", "mask.enc_mask_scale");
    expectRejected("mask: {aspect_ratio: 1.0}", "mask.aspect_ratio");
    expectRejected("meta: {model_name: vit_colossal}", "meta.model_name");
    expectRejected("meta: {model_name: vit_tiny, pred_emb_dim: 100}", "meta.pred_emb_dim");
    expectRejected("optimization: {ema: [0.999, 0.99]}", "optimization.ema");
    expectRejected("optimization: {epochs: 0}", "optimization.epochs");
    expectRejected("data: {crop_size: 32}\nmask: {patch_size: 4, min_keep: 10}", "mask.min_keep");
    expectRejected("mask: {sampler: spiral}", "mask.sampler");
    expectRejected("meta: {cpu_bf16: sometimes}", "meta.cpu_bf16");
    expectRejected("[1, 2]", "test.yaml");
    expectRejected("data: {crop_size: [", "test.yaml");
}

TEST(Config, MissingFileIsAClearError)
{
    try {
        loadConfig("/nonexistent/params.yaml");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/params.yaml"), std::string::npos);
    }
}

TEST(Config, CustomSizesOverridePresets)
{
    const Config c = parseConfig("meta: {model_name: vit_tiny, depth: 4}\n");
    EXPECT_EQ(c.encoderSize().embed_dim, 192);
    EXPECT_EQ(c.encoderSize().depth, 4);
    EXPECT_EQ(c.encoderSize().num_heads, 3);
}
