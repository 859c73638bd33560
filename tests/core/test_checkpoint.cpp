#include "core/io/checkpoint.h"
#include "core/errors.h"
#include "core/io/pickle.h"
#include "tests/core/test_support.h"

#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

using namespace ijepa;
using namespace ijepa::test;
using namespace std::string_literals;

namespace {

const std::string kOfficial = sharedFixture("official-tiny/checkpoint.pth.tar");

Config tinyConfig() { return loadConfig(sharedFixture("official-tiny/params-ijepa.yaml")); }

void expectCheckpointError(const std::function<void()>& fn, const std::vector<std::string>& fragments)
{
    try {
        fn();
        FAIL() << "expected CheckpointError";
    } catch (const CheckpointError& e) {
        for (const auto& f : fragments)
            EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << "'" << f << "' not in: " << e.what();
    }
}

std::string readFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeFile(const std::string& path, const std::string& bytes)
{
    std::ofstream(path, std::ios::binary) << bytes;
}

} // namespace

TEST(Checkpoint, ReadsTheReferenceCheckpoint)
{
    IJepaModel model(tinyConfig());
    AdamW opt(model.paramGroups());
    const auto meta = loadCheckpoint(kOfficial, model, &opt);
    EXPECT_EQ(meta.epoch, 1);
    EXPECT_EQ(meta.batchSize, 4);
    EXPECT_EQ(meta.worldSize, 1);
    EXPECT_DOUBLE_EQ(meta.lr, 0.001);
    EXPECT_NEAR(meta.loss, 0.43148, 1e-4);
    // The target encoder differs from the context encoder after two EMA steps.
    EXPECT_GT(maxAbsDiff(model.encoder->blocks[0]->as<Block>()->attn->qkv->weight,
                         model.targetEncoder->blocks[0]->as<Block>()->attn->qkv->weight), 0.0);
    const auto state = opt.stateDict().toGenericDict().at("state").toGenericDict();
    EXPECT_GT(state.size(), 50u);
    EXPECT_DOUBLE_EQ(state.at(1).toGenericDict().at("step").toTensor().item<double>(), 2.0);
}

TEST(Checkpoint, SaveThenLoadIsBitwise)
{
    TempDir dir;
    IJepaModel a(tinyConfig());
    AdamW optA(a.paramGroups());
    loadCheckpoint(kOfficial, a, &optA);
    CheckpointMeta meta{3, 0.25, 4, 1, 1e-3, 15, dumpConfig(tinyConfig())};
    saveCheckpoint(dir.file("c.pth.tar"), a, &optA, meta);

    torch::manual_seed(123);
    IJepaModel b(tinyConfig());
    AdamW optB(b.paramGroups());
    const auto back = loadCheckpoint(dir.file("c.pth.tar"), b, &optB);
    EXPECT_EQ(back.epoch, 3);
    EXPECT_EQ(back.iteration, 15);
    EXPECT_EQ(back.config.value(), dumpConfig(tinyConfig()));
    const auto pa = a.encoder->parameters(), pb = b.encoder->parameters();
    for (size_t i = 0; i < pa.size(); ++i)
        EXPECT_TRUE(torch::equal(pa[i], pb[i])) << i;
    const auto ta = a.targetEncoder->parameters(), tb = b.targetEncoder->parameters();
    for (size_t i = 0; i < ta.size(); ++i)
        EXPECT_TRUE(torch::equal(ta[i], tb[i])) << i;
    const auto sa = optA.stateDict().toGenericDict().at("state").toGenericDict();
    const auto sb = optB.stateDict().toGenericDict().at("state").toGenericDict();
    ASSERT_EQ(sa.size(), sb.size());
    for (const auto& e : sa)
        EXPECT_TRUE(torch::equal(e.value().toGenericDict().at("exp_avg_sq").toTensor(),
                                 sb.at(e.key()).toGenericDict().at("exp_avg_sq").toTensor()));
    EXPECT_FALSE(std::filesystem::exists(dir.file("c.pth.tar.tmp" + std::to_string(::getpid()))));
}

// A write that fails half-way (the file-size limit stands in for a full disk: the same short
// write, EFBIG instead of ENOSPC) is an error naming the file and the cause, not an abort; no temp
// file stays and the previous checkpoint is untouched and still loads.
TEST(Checkpoint, AFailedWriteLeavesThePreviousCheckpointAndNoTempFile)
{
    TempDir dir;
    IJepaModel model(smallModelConfig());
    AdamW opt(model.paramGroups());
    const auto path = dir.file("jepa-latest.pth.tar");
    CheckpointMeta meta;
    meta.iteration = 3;
    saveCheckpoint(path, model, &opt, meta);
    const auto before = readFile(path);
    ASSERT_GT(before.size(), 200000u);

    std::signal(SIGXFSZ, SIG_IGN); // a write past the limit then fails with EFBIG instead of killing
    rlimit old{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
    rlimit small = old;
    small.rlim_cur = 100000;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    meta.iteration = 4;
    bool threw = false;
    try {
        saveCheckpoint(path, model, &opt, meta);
    } catch (const WriteError& e) {
        threw = true;
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(std::strerror(EFBIG)), std::string::npos) << e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &old);
    EXPECT_TRUE(threw);
    EXPECT_EQ(readFile(path), before) << "the previous checkpoint changed";
    int files = 0;
    for ([[maybe_unused]] const auto& f : std::filesystem::directory_iterator(dir.path))
        ++files;
    EXPECT_EQ(files, 1) << "a temp file was left";
    IJepaModel back(smallModelConfig());
    EXPECT_EQ(loadCheckpoint(path, back, nullptr).iteration, 3);
}

TEST(Checkpoint, TruncatedAndCorruptFilesGiveClearErrors)
{
    TempDir dir;
    const std::string bytes = readFile(kOfficial);
    for (size_t cut : {bytes.size() / 2, bytes.size() - 100, size_t{100}}) {
        writeFile(dir.file("t.pth.tar"), bytes.substr(0, cut));
        IJepaModel model(tinyConfig());
        expectCheckpointError([&] { loadCheckpoint(dir.file("t.pth.tar"), model, nullptr); }, {dir.file("t.pth.tar")});
    }
    writeFile(dir.file("junk.pth.tar"), "this is not a checkpoint");
    expectCheckpointError([&] { readTorchFile(dir.file("junk.pth.tar")); }, {"junk.pth.tar", "zip"});
    expectCheckpointError([&] { readTorchFile(dir.file("missing.pth.tar")); }, {"missing.pth.tar", "no such file"});
}

TEST(Checkpoint, ShapeMismatchNamesTheKeys)
{
    Config other = tinyConfig();
    other.meta.embed_dim = 32;
    IJepaModel model(other);
    expectCheckpointError([&] { loadCheckpoint(kOfficial, model, nullptr); },
                          {"key 'encoder'", "shape mismatch", "pos_embed"});
    Config deeper = tinyConfig();
    deeper.meta.depth = 3;
    IJepaModel model3(deeper);
    expectCheckpointError([&] { loadCheckpoint(kOfficial, model3, nullptr); }, {"missing", "blocks.2."});
}

TEST(Unpickler, RefusesArbitraryGlobals)
{
    const std::string evil = "\x80\x02" "cos\nsystem\n" "X\x04\x00\x00\x00" "echo" "\x85R."s;
    const auto noStorage = [](const std::string&, at::ScalarType, int64_t) -> at::Tensor {
        throw CheckpointError("no storage");
    };
    expectCheckpointError([&] { pickle::unpickle(evil.data(), evil.size(), noStorage); }, {"os.system"});
    const std::string builtin = "\x80\x02" "c__builtin__\neval\n."s;
    expectCheckpointError([&] { pickle::unpickle(builtin.data(), builtin.size(), noStorage); }, {"eval"});
    const std::string selfRef = "\x80\x02]q\x00h\x00" "a."s;
    expectCheckpointError([&] { pickle::unpickle(selfRef.data(), selfRef.size(), noStorage); }, {"itself"});
    const std::string truncated = "\x80\x02X\xff\x00\x00\x00ab"s;
    expectCheckpointError([&] { pickle::unpickle(truncated.data(), truncated.size(), noStorage); }, {"truncated"});
}

TEST(Unpickler, RoundTripsPlainValues)
{
    auto d = c10::impl::GenericDict(c10::AnyType::get(), c10::AnyType::get());
    d.insert("int", int64_t{-5});
    d.insert("big", int64_t{1} << 40);
    d.insert("float", 0.125);
    d.insert("none", c10::IValue());
    d.insert("tuple", c10::ivalue::Tuple::create({c10::IValue(0.9), c10::IValue(0.999)}));
    d.insert("tensor", torch::arange(6, torch::kLong).view({2, 3}));
    d.insert("half", torch::ones({3}, torch::kBFloat16));
    std::vector<std::pair<std::string, at::Tensor>> storages;
    const std::string bytes = pickle::picklePayload(d, storages);
    const auto back = pickle::unpickle(bytes.data(), bytes.size(), [&](const std::string& key, at::ScalarType, int64_t) {
        return storages.at(static_cast<size_t>(std::stoi(key))).second.flatten();
    });
    const auto b = back.toGenericDict();
    EXPECT_EQ(b.at("int").toInt(), -5);
    EXPECT_EQ(b.at("big").toInt(), int64_t{1} << 40);
    EXPECT_DOUBLE_EQ(b.at("float").toDouble(), 0.125);
    EXPECT_TRUE(b.at("none").isNone());
    EXPECT_DOUBLE_EQ(b.at("tuple").toTupleRef().elements()[1].toDouble(), 0.999);
    EXPECT_TRUE(torch::equal(b.at("tensor").toTensor(), torch::arange(6, torch::kLong).view({2, 3})));
    EXPECT_EQ(b.at("half").toTensor().scalar_type(), torch::kBFloat16);
}

// The reference Python code loads what we write (skipped where PyTorch for Python is absent).
// With IJEPA_REFERENCE_DIR set to a facebookresearch/ijepa checkout, into the reference's classes.
TEST(Checkpoint, LoadsInReferencePython)
{
    if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "/usr/bin/python3 with torch is not available (apt install python3-torch)";
    TempDir dir;
    IJepaModel model(tinyConfig());
    AdamW opt(model.paramGroups());
    loadCheckpoint(kOfficial, model, &opt);
    saveCheckpoint(dir.file("ours.pth.tar"), model, &opt, CheckpointMeta{1, 0.4, 4, 1, 1e-3, 5, std::nullopt});
    const std::string cmd = "/usr/bin/python3 " + std::string(IJEPA_SOURCE_DIR) + "/tests/python/check_checkpoint.py " +
                            dir.file("ours.pth.tar") + " " + kOfficial + " > " + dir.file("out.txt") + " 2>&1";
    const int rc = std::system(cmd.c_str());
    const std::string out = readFile(dir.file("out.txt"));
    ASSERT_EQ(rc, 0) << out;
    const size_t ok = out.rfind("OK ");
    ASSERT_NE(ok, std::string::npos) << out;
    double expected = 0;
    for (const auto& p : model.encoder->parameters())
        expected += p.to(torch::kDouble).sum().item<double>();
    EXPECT_NEAR(std::stod(out.substr(ok + 3)), expected, 1e-6 * std::max(1.0, std::abs(expected)));
}
