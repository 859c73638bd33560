#include "core/io/pickle.h"

#include "core/errors.h"

#include <ATen/ATen.h>
#include <c10/util/irange.h>

#include <cstring>
#include <limits>
#include <unordered_map>
#include <unordered_set>

namespace ijepa::pickle {
namespace {

constexpr int kMaxDepth = 100;

[[noreturn]] void fail(const std::string& message) { throw CheckpointError("pickle: " + message); }

enum class Global { None, RebuildTensor, RebuildParameter, OrderedDict, Storage };

// A stack entry: a value, a MARK, or a resolved allow-listed global.
struct Item {
    enum Kind { Value, Mark, GlobalRef } kind = Value;
    c10::IValue value;
    Global global = Global::None;
    at::ScalarType dtype = at::kFloat;
    std::string name;

    static Item of(c10::IValue v)
    {
        Item item;
        item.value = std::move(v);
        return item;
    }
    static Item mark()
    {
        Item item;
        item.kind = Mark;
        return item;
    }
};

const std::unordered_map<std::string, at::ScalarType>& storageTypes()
{
    static const std::unordered_map<std::string, at::ScalarType> types{
        {"FloatStorage", at::kFloat}, {"DoubleStorage", at::kDouble}, {"HalfStorage", at::kHalf},
        {"BFloat16Storage", at::kBFloat16}, {"LongStorage", at::kLong}, {"IntStorage", at::kInt},
        {"ShortStorage", at::kShort}, {"CharStorage", at::kChar}, {"ByteStorage", at::kByte},
        {"BoolStorage", at::kBool},
    };
    return types;
}

Item resolveGlobal(const std::string& module, const std::string& name)
{
    Item item;
    item.kind = Item::GlobalRef;
    item.name = module + "." + name;
    item.value = item.name;
    if (module == "torch._utils" && name == "_rebuild_tensor_v2")
        item.global = Global::RebuildTensor;
    else if (module == "torch._utils" && name == "_rebuild_parameter")
        item.global = Global::RebuildParameter;
    else if (module == "collections" && name == "OrderedDict")
        item.global = Global::OrderedDict;
    else if (module == "torch" && storageTypes().count(name)) {
        item.global = Global::Storage;
        item.dtype = storageTypes().at(name);
    } else
        fail("refusing global '" + item.name + "': only tensors, state dicts and plain values are read");
    return item;
}

class Unpickler {
public:
    Unpickler(const char* data, size_t size, const StorageLoader& load) : m_p(data), m_end(data + size), m_load(load) {}

    c10::IValue run()
    {
        for (;;) {
            const auto op = static_cast<uint8_t>(readByte());
            if (op == '.') {
                if (m_stack.size() != 1 || m_stack.back().kind != Item::Value)
                    fail("malformed stream at STOP");
                return m_stack.back().value;
            }
            step(op);
        }
    }

private:
    char readByte()
    {
        need(1);
        return *m_p++;
    }
    void need(size_t n)
    {
        if (static_cast<size_t>(m_end - m_p) < n)
            fail("truncated stream");
    }
    template <class T>
    T readLE()
    {
        need(sizeof(T));
        T v;
        std::memcpy(&v, m_p, sizeof(T));
        m_p += sizeof(T);
        return v;
    }
    std::string readBytes(uint64_t n)
    {
        need(n);
        std::string s(m_p, m_p + n);
        m_p += n;
        return s;
    }
    std::string readLine()
    {
        const char* nl = static_cast<const char*>(std::memchr(m_p, '\n', static_cast<size_t>(m_end - m_p)));
        if (!nl)
            fail("truncated GLOBAL");
        std::string s(m_p, nl);
        m_p = nl + 1;
        return s;
    }

    Item pop()
    {
        if (m_stack.empty() || m_stack.back().kind == Item::Mark)
            fail("stack underflow");
        Item item = std::move(m_stack.back());
        m_stack.pop_back();
        return item;
    }
    c10::IValue popValue() { return pop().value; }
    Item& top()
    {
        if (m_stack.empty() || m_stack.back().kind != Item::Value)
            fail("stack underflow");
        return m_stack.back();
    }
    // Items above the last MARK, which is removed.
    std::vector<Item> popMark()
    {
        if (m_marks.empty())
            fail("no MARK");
        const size_t at = m_marks.back();
        m_marks.pop_back();
        if (at > m_stack.size())
            fail("corrupt MARK");
        std::vector<Item> items(std::make_move_iterator(m_stack.begin() + static_cast<ptrdiff_t>(at) + 1),
                                std::make_move_iterator(m_stack.end()));
        m_stack.resize(at);
        for (const auto& i : items)
            if (i.kind == Item::Mark)
                fail("nested MARK");
        return items;
    }
    void push(c10::IValue v) { m_stack.push_back(Item::of(std::move(v))); }

    static const void* identity(const c10::IValue& v)
    {
        return v.isPtrType() ? v.internalToPointer() : nullptr;
    }
    int depthOf(const c10::IValue& v) const
    {
        auto it = m_depth.find(identity(v));
        return it == m_depth.end() ? 0 : it->second;
    }
    // Records that child goes into parent: no cycles (a container is frozen once inserted) and a
    // bounded depth.
    void adopt(const c10::IValue& parent, const c10::IValue& child)
    {
        const void* p = identity(parent);
        if (m_frozen.count(p))
            fail("container (" + parent.tagKind() + ") modified after being stored (cycles are not supported)");
        if (p == identity(child))
            fail("container inserted into itself");
        const int d = depthOf(child) + 1;
        if (d > kMaxDepth)
            fail("nesting deeper than " + std::to_string(kMaxDepth));
        if (const void* c = identity(child))
            m_frozen.insert(c);
        // Tracked objects stay alive, so a freed address is never reused by a new container.
        m_alive.push_back(parent);
        m_alive.push_back(child);
        auto& pd = m_depth[p];
        pd = std::max(pd, d);
    }
    c10::IValue makeTuple(std::vector<Item> items)
    {
        std::vector<c10::IValue> values;
        for (auto& i : items)
            values.push_back(std::move(i.value));
        auto tuple = c10::ivalue::Tuple::create(std::move(values));
        c10::IValue result(tuple);
        m_depth[identity(result)] = 0;
        for (const auto& v : result.toTupleRef().elements())
            adopt(result, v);
        m_frozen.erase(identity(result));
        return result;
    }
    static void checkKey(const c10::IValue& k)
    {
        if (!(k.isString() || k.isInt() || k.isDouble() || k.isBool()))
            fail("dict key of type " + k.tagKind() + " is not supported");
    }
    void setItems(std::vector<Item> items)
    {
        if (items.size() % 2)
            fail("odd number of items in SETITEMS");
        auto& dictItem = top();
        if (!dictItem.value.isGenericDict())
            fail("SETITEMS on a non-dict");
        auto dict = dictItem.value.toGenericDict();
        for (size_t i = 0; i < items.size(); i += 2) {
            checkKey(items[i].value);
            adopt(dictItem.value, items[i + 1].value);
            dict.insert_or_assign(items[i].value, items[i + 1].value);
        }
    }
    void appendItems(std::vector<Item> items)
    {
        auto& listItem = top();
        if (!listItem.value.isList())
            fail("APPENDS on a non-list");
        auto list = listItem.value.toList();
        for (auto& i : items) {
            adopt(listItem.value, i.value);
            list.push_back(std::move(i.value));
        }
    }
    static std::vector<int64_t> intTuple(const c10::IValue& v, const char* what)
    {
        if (!v.isTuple())
            fail(std::string(what) + " must be a tuple");
        std::vector<int64_t> out;
        for (const auto& e : v.toTupleRef().elements()) {
            if (!e.isInt())
                fail(std::string(what) + " must hold integers");
            out.push_back(e.toInt());
        }
        if (out.size() > 16)
            fail(std::string(what) + " has too many dimensions");
        return out;
    }
    c10::IValue rebuildTensor(const std::vector<c10::IValue>& args)
    {
        if (args.size() < 4 || !args[0].isTensor() || !args[1].isInt())
            fail("bad arguments to _rebuild_tensor_v2");
        const at::Tensor& storage = args[0].toTensor();
        const int64_t offset = args[1].toInt();
        const auto sizes = intTuple(args[2], "tensor size");
        const auto strides = intTuple(args[3], "tensor stride");
        if (sizes.size() != strides.size())
            fail("tensor size and stride differ in length");
        // Highest element index touched, checked against the storage without overflow.
        int64_t last = offset;
        bool empty = false;
        if (offset < 0)
            fail("negative storage offset");
        for (size_t i = 0; i < sizes.size(); ++i) {
            if (sizes[i] < 0 || strides[i] < 0)
                fail("negative tensor size or stride");
            if (sizes[i] == 0)
                empty = true;
        }
        if (!empty) {
            for (size_t i = 0; i < sizes.size(); ++i) {
                int64_t span = 0;
                if (__builtin_mul_overflow(sizes[i] - 1, strides[i], &span) || __builtin_add_overflow(last, span, &last))
                    fail("tensor view overflows");
            }
            if (last >= storage.numel())
                fail("tensor view exceeds its storage (" + std::to_string(last + 1) + " > " +
                     std::to_string(storage.numel()) + " elements)");
        }
        return storage.as_strided(sizes, strides, offset);
    }
    void reduce()
    {
        c10::IValue args = popValue();
        Item callable = pop();
        if (callable.kind != Item::GlobalRef || !args.isTuple())
            fail("REDUCE of a non-global");
        const auto& a = args.toTupleRef().elements();
        switch (callable.global) {
        case Global::RebuildTensor:
            push(rebuildTensor(a.vec()));
            return;
        case Global::RebuildParameter:
            if (a.empty() || !a[0].isTensor())
                fail("bad arguments to _rebuild_parameter");
            push(a[0]);
            return;
        case Global::OrderedDict:
            push(c10::impl::GenericDict(c10::AnyType::get(), c10::AnyType::get()));
            return;
        default:
            fail("cannot call '" + callable.name + "'");
        }
    }
    void persistentLoad()
    {
        c10::IValue pid = popValue();
        if (!pid.isTuple())
            fail("persistent id must be a tuple");
        const auto& e = pid.toTupleRef().elements();
        if (e.size() != 5 || !e[0].isString() || e[0].toStringRef() != "storage" || !e[1].isString() ||
            !e[2].isString() || !e[4].isInt())
            fail("unsupported persistent id");
        const std::string& type = e[1].toStringRef();
        const std::string prefix = "torch.";
        if (type.rfind(prefix, 0) != 0 || !storageTypes().count(type.substr(prefix.size())))
            fail("unsupported storage type '" + type + "'");
        const int64_t numel = e[4].toInt();
        if (numel < 0)
            fail("negative storage size");
        const std::string& key = e[2].toStringRef();
        auto it = m_storages.find(key);
        if (it == m_storages.end())
            it = m_storages.emplace(key, m_load(key, storageTypes().at(type.substr(prefix.size())), numel)).first;
        push(it->second);
    }
    void memoPut(uint64_t index)
    {
        if (m_stack.empty())
            fail("memo put on empty stack");
        m_memo[index] = m_stack.back();
    }
    void memoGet(uint64_t index)
    {
        auto it = m_memo.find(index);
        if (it == m_memo.end())
            fail("memo get of unknown index");
        m_stack.push_back(it->second);
    }

    void step(uint8_t op)
    {
        switch (op) {
        case 0x80: readByte(); break;              // PROTO
        case 0x95: readLE<uint64_t>(); break;      // FRAME
        case '(': m_marks.push_back(m_stack.size()); m_stack.push_back(Item::mark()); break;
        case '}': push(c10::impl::GenericDict(c10::AnyType::get(), c10::AnyType::get())); break;
        case ']': push(c10::impl::GenericList(c10::AnyType::get())); break;
        case ')': push(c10::ivalue::Tuple::create(std::vector<c10::IValue>{})); break;
        case 't': push(makeTuple(popMark())); break;
        case 0x85: case 0x86: case 0x87: {
            std::vector<Item> items(op - 0x84);
            for (auto it = items.rbegin(); it != items.rend(); ++it)
                *it = pop();
            push(makeTuple(std::move(items)));
            break;
        }
        case 'q': memoPut(static_cast<uint8_t>(readByte())); break;
        case 'r': memoPut(readLE<uint32_t>()); break;
        case 0x94: memoPut(m_memo.size()); break;
        case 'h': memoGet(static_cast<uint8_t>(readByte())); break;
        case 'j': memoGet(readLE<uint32_t>()); break;
        case 'J': push(static_cast<int64_t>(readLE<int32_t>())); break;
        case 'K': push(static_cast<int64_t>(static_cast<uint8_t>(readByte()))); break;
        case 'M': push(static_cast<int64_t>(readLE<uint16_t>())); break;
        case 0x8a: {
            const auto n = static_cast<uint8_t>(readByte());
            if (n > 8)
                fail("integer wider than 64 bits");
            const std::string bytes = readBytes(n);
            uint64_t v = 0;
            for (size_t i = 0; i < n; ++i)
                v |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
            if (n > 0 && n < 8 && (static_cast<uint8_t>(bytes[n - 1]) & 0x80))
                v |= ~uint64_t{0} << (8 * n); // sign-extend
            push(static_cast<int64_t>(v));
            break;
        }
        case 'X': push(readBytes(readLE<uint32_t>())); break;
        case 0x8c: push(readBytes(static_cast<uint8_t>(readByte()))); break;
        case 0x8d: push(readBytes(readLE<uint64_t>())); break;
        case 'G': {
            auto bits = readLE<uint64_t>();
            bits = __builtin_bswap64(bits); // big-endian on the wire
            double d;
            std::memcpy(&d, &bits, sizeof d);
            push(d);
            break;
        }
        case 0x88: push(true); break;
        case 0x89: push(false); break;
        case 'N': push(c10::IValue()); break;
        case 's': {
            Item value = pop();
            Item key = pop();
            std::vector<Item> items;
            items.push_back(std::move(key));
            items.push_back(std::move(value));
            setItems(std::move(items));
            break;
        }
        case 'u': setItems(popMark()); break;
        case 'a': {
            std::vector<Item> items;
            items.push_back(pop());
            appendItems(std::move(items));
            break;
        }
        case 'e': appendItems(popMark()); break;
        case 'c': {
            const std::string module = readLine();
            m_stack.push_back(resolveGlobal(module, readLine()));
            break;
        }
        case 0x93: {
            const c10::IValue name = popValue();
            const c10::IValue module = popValue();
            if (!name.isString() || !module.isString())
                fail("STACK_GLOBAL needs two strings");
            m_stack.push_back(resolveGlobal(module.toStringRef(), name.toStringRef()));
            break;
        }
        case 'R': reduce(); break;
        case 'Q': persistentLoad(); break;
        case 'b': {
            c10::IValue state = popValue();
            if (!top().value.isGenericDict() && !top().value.isTensor())
                fail("BUILD on an unsupported object");
            break; // OrderedDict _metadata and tensor state carry nothing the weights need
        }
        default: {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", op);
            fail(std::string("unsupported opcode ") + hex);
        }
        }
    }

    const char* m_p;
    const char* m_end;
    const StorageLoader& m_load;
    std::vector<Item> m_stack;
    std::vector<size_t> m_marks;
    std::unordered_map<uint64_t, Item> m_memo;
    std::unordered_map<std::string, at::Tensor> m_storages;
    std::unordered_map<const void*, int> m_depth;
    std::unordered_set<const void*> m_frozen;
    std::vector<c10::IValue> m_alive;
};

} // namespace

c10::IValue unpickle(const char* data, size_t size, const StorageLoader& loadStorage)
{
    try {
        return Unpickler(data, size, loadStorage).run();
    } catch (const c10::Error& e) {
        fail(e.what_without_backtrace());
    }
}

} // namespace ijepa::pickle
