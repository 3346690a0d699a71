// Assertions on Status / Result values for the real_kafka tests: fail with the error's message.
#pragma once

#include <gtest/gtest.h>

#define ASSERT_OK(expr)                                                     \
  do {                                                                      \
    const auto& ka_result_ = (expr);                                        \
    ASSERT_TRUE(ka_result_) << #expr << ": " << ka_result_.error().message; \
  } while (0)
