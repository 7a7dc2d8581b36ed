// Result<T>: a value or an Error, never both; [[nodiscard]] so a failure cannot be ignored.
//
// Project code does not throw. Functions that can fail return Result<T>; callers propagate with
// TRY(expr), which yields the value or returns the Error from the enclosing function.
// Accessing value() of a failed Result (or error() of a successful one) is a logic error and
// aborts.
#pragma once

#include <cstdlib>
#include <utility>
#include <variant>

#include "base/error.h"

namespace cvm {

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_storage(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : m_storage(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return m_storage.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return *checked<0>(); }
    const T& value() const& { return *checked<0>(); }
    T release_value() { return std::move(*checked<0>()); }

    const Error& error() const& { return *checked<1>(); }
    Error release_error() { return std::move(*checked<1>()); }

    T* operator->() { return checked<0>(); }
    const T* operator->() const { return checked<0>(); }

private:
    template <size_t I>
    auto* checked()
    {
        auto* p = std::get_if<I>(&m_storage);
        if (!p)
            abort();
        return p;
    }
    template <size_t I>
    const auto* checked() const
    {
        const auto* p = std::get_if<I>(&m_storage);
        if (!p)
            abort();
        return p;
    }

    std::variant<T, Error> m_storage;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : m_error(std::move(error)), m_failed(true) {}

    bool ok() const { return !m_failed; }
    explicit operator bool() const { return ok(); }
    void release_value() const {}

    const Error& error() const
    {
        if (!m_failed)
            abort();
        return m_error;
    }
    Error release_error() { return std::move(const_cast<Error&>(error())); }

private:
    Error m_error{};
    bool m_failed{false};
};

}  // namespace cvm

// Evaluates a Result-returning expression; on failure returns its Error from the enclosing
// function, otherwise yields the value. Uses a statement expression (GCC and Clang); each
// expansion gets its own variable name so TRY can nest.
#define CVM_TRY_CONCAT_(a, b) a##b
#define CVM_TRY_CONCAT(a, b) CVM_TRY_CONCAT_(a, b)
#define CVM_TRY_IMPL(expr, var)                                                                                        \
    ({                                                                                                                 \
        auto var = (expr);                                                                                             \
        if (!var.ok())                                                                                                 \
            return var.release_error();                                                                                \
        var.release_value();                                                                                           \
    })
#define TRY(expr) CVM_TRY_IMPL(expr, CVM_TRY_CONCAT(cvm_try_, __COUNTER__))

// TRY that first prefixes a failure with context: TRY_PREFIX(read_file(p, n), "signing_key %s", p).
#define CVM_TRY_PREFIX_IMPL(var, expr, ...)                                                                            \
    ({                                                                                                                 \
        auto var = (expr);                                                                                             \
        if (!var.ok())                                                                                                 \
            return var.release_error().prefix(__VA_ARGS__);                                                            \
        var.release_value();                                                                                           \
    })
#define TRY_PREFIX(expr, ...) CVM_TRY_PREFIX_IMPL(CVM_TRY_CONCAT(cvm_try_, __COUNTER__), expr, __VA_ARGS__)
