// The writer half of core/io/pickle.h: pickles a checkpoint's dict in the layout torch.save writes.
#include "core/io/pickle.h"

#include "core/errors.h"

#include <ATen/ATen.h>

#include <cstring>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace ijepa::pickle {
namespace {

[[noreturn]] void fail(const std::string& message) { throw CheckpointError("pickle: " + message); }

class Pickler {
public:
    explicit Pickler(std::vector<std::pair<std::string, at::Tensor>>& storages) : m_storages(storages) {}

    std::string run(const c10::IValue& v)
    {
        m_out += "\x80\x02";
        write(v);
        m_out += '.';
        return std::move(m_out);
    }

private:
    void op(char c) { m_out += c; }
    template <class T>
    void raw(T v) { m_out.append(reinterpret_cast<const char*>(&v), sizeof v); }
    void string(const std::string& s)
    {
        op('X');
        raw(static_cast<uint32_t>(s.size()));
        m_out += s;
    }
    void integer(int64_t v)
    {
        if (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()) {
            op('J');
            raw(static_cast<int32_t>(v));
        } else {
            op('\x8a');
            op('\x08');
            raw(v);
        }
    }
    void tuple(const std::vector<int64_t>& values)
    {
        op('(');
        for (auto v : values)
            integer(v);
        op('t');
    }
    void tensor(const at::Tensor& t)
    {
        const std::string key = std::to_string(m_storages.size());
        auto data = t.detach().to(at::kCPU).contiguous().clone();
        const std::string type = std::string(c10::toString(data.scalar_type())) + "Storage";
        m_storages.emplace_back(key, data);
        m_out += "ctorch._utils\n_rebuild_tensor_v2\n(";
        op('(');
        string("storage");
        m_out += "ctorch\n" + type + "\n";
        string(key);
        string("cpu");
        integer(data.numel());
        op('t');
        op('Q');
        integer(0);
        tuple(data.sizes().vec());
        tuple(data.strides().vec());
        op(t.requires_grad() ? '\x88' : '\x89');
        m_out += "ccollections\nOrderedDict\n)R";
        op('t');
        op('R');
    }
    void write(const c10::IValue& v)
    {
        if (v.isNone())
            op('N');
        else if (v.isBool())
            op(v.toBool() ? '\x88' : '\x89');
        else if (v.isInt())
            integer(v.toInt());
        else if (v.isDouble()) {
            op('G');
            double d = v.toDouble();
            uint64_t bits;
            std::memcpy(&bits, &d, sizeof d);
            raw(__builtin_bswap64(bits));
        } else if (v.isString())
            string(v.toStringRef());
        else if (v.isTensor())
            tensor(v.toTensor());
        else if (v.isTuple()) {
            op('(');
            for (const auto& e : v.toTupleRef().elements())
                write(e);
            op('t');
        } else if (v.isList()) {
            op(']');
            op('(');
            for (const auto& e : v.toListRef())
                write(e);
            op('e');
        } else if (v.isGenericDict()) {
            op('}');
            op('(');
            for (const auto& entry : v.toGenericDict()) {
                write(entry.key());
                write(entry.value());
            }
            op('u');
        } else
            fail("cannot write a value of type " + v.tagKind());
    }

    std::string m_out;
    std::vector<std::pair<std::string, at::Tensor>>& m_storages;
};

} // namespace

std::string picklePayload(const c10::IValue& value, std::vector<std::pair<std::string, at::Tensor>>& storages)
{
    return Pickler(storages).run(value);
}

} // namespace ijepa::pickle
