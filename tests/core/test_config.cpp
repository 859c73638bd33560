#include "core/config.h"
#include "core/errors.h"
#include "tests/core/test_support.h"

#include <filesystem>
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

namespace {

// Expects ConfigError whose message contains every one of `parts`.
void expectMessage(const std::string& yaml, const std::vector<std::string>& parts)
{
    try {
        parseConfig(yaml, "typo.yaml");
        FAIL() << "accepted: " << yaml;
    } catch (const ConfigError& e) {
        for (const auto& part : parts)
            EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
}

} // namespace

TEST(Config, UnknownKeysAreRefusedWithTheNearestName)
{
    expectMessage("data: {batch_szie: 16}", {"typo.yaml", "data.batch_szie", "did you mean data.batch_size?"});
    expectMessage("optimisation: {epochs: 2}", {"section 'optimisation'", "did you mean optimization?"});
    expectMessage("data: 5", {"section 'data'", "mapping", "'5'"});
    expectMessage("data: [1, 2]", {"section 'data'", "mapping"});
    expectMessage("mask: {patchsize: 8}", {"mask.patchsize", "did you mean mask.patch_size?"});
    expectMessage("optimization: {LR: 0.1}", {"optimization.LR", "did you mean optimization.lr?"});
    expectMessage("meta: {model: vit_tiny}", {"meta.model", "did you mean meta.model_name?"});
    expectMessage("data: {lr: 0.1}", {"data.lr", "did you mean optimization.lr?"});
    // Nothing near: every valid name is listed.
    expectMessage("loss: {temperature: 0.1}", {"loss.temperature", "valid:", "loss.sigreg_weight"});
    expectMessage("loss: {temperature: 0.1}", {"valid: loss.projector_dim"}); // only the section's keys
    expectMessage("wandb: {project: x}", {"section 'wandb'", "valid:", "optimization"});
    // An empty section (every key commented out) means the defaults.
    EXPECT_EQ(parseConfig("loss:\ndata: {batch_size: 8}\n").data.batch_size, 8);
}

TEST(Config, OverrideTyposNameTheNearestKey)
{
    Config c;
    try {
        applyOverride(c, "data.batch_szie=16");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("did you mean data.batch_size?"), std::string::npos) << e.what();
    }
}

// Every config this project ships, and the reference's own, load unchanged under the strict reader.
TEST(Config, ShippedAndReferenceConfigsHaveNoUnknownKeys)
{
    for (const auto& path : {test::sharedFixture("official-tiny/params-ijepa.yaml"), test::testFixture("in1k_vith14_ep300.yaml")})
        EXPECT_NO_THROW(loadConfig(path)) << path;
    int shipped = 0;
    for (const auto& entry : std::filesystem::directory_iterator(std::string(IJEPA_SOURCE_DIR) + "/configs")) {
        if (entry.path().extension() != ".yaml")
            continue;
        ++shipped;
        EXPECT_NO_THROW(loadConfig(entry.path().string())) << entry.path();
    }
    EXPECT_GE(shipped, 3);
}
