// Test main: the Kokkos and OpenVDB runtime is initialised once for all tests.
#include <gtest/gtest.h>

#include "cementflow/runtime.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  cementflow::Runtime runtime;
  return RUN_ALL_TESTS();
}
