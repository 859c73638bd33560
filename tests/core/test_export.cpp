// Encoder export and import: safetensors, timm and Hugging Face layouts round-trip bitwise, and
// the safetensors reader refuses malformed files by name.
#include "core/errors.h"
#include "core/io/encoder_export.h"
#include "core/io/safetensors.h"
#include "tests/core/test_support.h"

#include <cstring>
#include <fstream>

using namespace ijepa;
using ijepa::test::TempDir;

namespace {

Config tinyConfig()
{
    Config c = ijepa::test::smallModelConfig();
    c.meta.pred_depth = 1;
    return c;
}

void expectSame(const torch::nn::Module& a, const torch::nn::Module& b, const std::string& what)
{
    const auto pa = a.named_parameters(true), pb = b.named_parameters(true);
    ASSERT_EQ(pa.size(), pb.size()) << what;
    for (const auto& p : pa)
        EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << what << ": " << p.key();
}

std::string message(const std::function<void()>& f)
{
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST(Export, EveryLayoutRoundTripsBitwise)
{
    TempDir dir;
    const Config config = tinyConfig();
    torch::manual_seed(1);
    IJepaModel trained(config);
    trained.updateTargetEncoder(0.5); // make the two encoders differ
    for (auto& p : trained.encoder->parameters())
        p.data().add_(0.01);
    for (const auto* format : {"safetensors", "timm", "hf"}) {
        ExportOptions o;
        o.format = parseExportFormat(format);
        o.withPredictor = o.format == ExportFormat::Safetensors;
        const std::string out = dir.file(std::string("enc-") + format + (o.format == ExportFormat::HuggingFace ? "" : ".safetensors"));
        exportEncoder(trained, config, o, out);
        ASSERT_TRUE(isExportedWeights(out)) << out;
        const SafeTensors file = readExport(out);
        const Config back = exportedConfig(out, file, nullptr);
        EXPECT_EQ(dumpConfig(back), dumpConfig(config)) << format;
        torch::manual_seed(2);
        IJepaModel fresh(back);
        EXPECT_EQ(importWeights(out, file, fresh), o.withPredictor) << format;
        expectSame(*fresh.encoder, *trained.targetEncoder, std::string(format) + " encoder");
        expectSame(*fresh.targetEncoder, *trained.targetEncoder, std::string(format) + " target encoder");
        if (o.withPredictor)
            expectSame(*fresh.predictor, *trained.predictor, "predictor");
    }
    // The context encoder on request; bf16 weights stored as BF16.
    ExportOptions o;
    o.context = true;
    o.bf16 = true;
    exportEncoder(trained, config, o, dir.file("ctx.safetensors"));
    const auto file = readSafetensors(dir.file("ctx.safetensors"));
    EXPECT_EQ(file.metadata.at("encoder"), "context");
    EXPECT_EQ(file.find("norm.weight").scalar_type(), torch::kBFloat16);
    EXPECT_TRUE(torch::equal(file.find("blocks.0.attn.qkv.weight"),
                             trained.encoder->named_parameters()["blocks.0.attn.qkv.weight"].to(torch::kBFloat16)));
    EXPECT_NE(message([&] { o.withPredictor = true, o.format = ExportFormat::Timm, exportEncoder(trained, config, o, dir.file("x")); })
                  .find("--with-predictor"),
              std::string::npos);
}

TEST(Export, ShapesThatDoNotFitTheModelAreListed)
{
    TempDir dir;
    const Config config = tinyConfig();
    IJepaModel model(config);
    exportEncoder(model, config, {}, dir.file("enc.safetensors"));
    Config wider = config;
    wider.meta.embed_dim = 96;
    IJepaModel other(wider);
    const auto m = message([&] { importWeights(dir.file("enc.safetensors"), other); });
    EXPECT_NE(m.find("enc.safetensors"), std::string::npos) << m;
    EXPECT_NE(m.find("pos_embed"), std::string::npos) << m;
}

namespace {

// A safetensors file from a header text and data bytes.
std::string fileOf(const std::string& header, const std::string& data, std::uint64_t length = UINT64_MAX)
{
    if (length == UINT64_MAX)
        length = header.size();
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i)
        out[static_cast<size_t>(i)] = static_cast<char>((length >> (8 * i)) & 0xFF);
    return out + header + data;
}

std::string refusal(const std::string& bytes)
{
    return message([&] { parseSafetensors(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "bad.safetensors"); });
}

} // namespace

TEST(Safetensors, MalformedFilesAreRefusedByName)
{
    const std::string eight(8, '\1');
    const std::string good = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    EXPECT_EQ(refusal(fileOf(good, eight)), "");
    const std::vector<std::pair<std::string, std::string>> cases = {
        {fileOf(good, eight, 1u << 20), "runs past the file"},
        {fileOf("{not json", eight), "not JSON"},
        {fileOf(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight), "overlap"},
        {fileOf(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight), "gap"},
        {fileOf(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", eight), "outside"},
        {fileOf(R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", eight), "unknown dtype 'Q4'"},
        {fileOf(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight), "needs 12 bytes"},
        {fileOf(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight), "appears twice"},
        {fileOf(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", eight), "after the last tensor"},
        {fileOf(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}})", eight), "cannot hold"},
        {fileOf(R"([1,2])", ""), "not a JSON object"},
        {std::string("\3\0\0", 3), "shorter than"},
    };
    for (const auto& [bytes, expect] : cases) {
        const auto m = refusal(bytes);
        EXPECT_NE(m.find("bad.safetensors: not a valid safetensors file"), std::string::npos) << m;
        EXPECT_NE(m.find(expect), std::string::npos) << "expected '" << expect << "', got: " << m;
    }
}
