# Finds every dependency with a clear message naming the Debian package when it is missing.

macro(cementflow_require pkg debian)
  if(NOT ${pkg}_FOUND)
    message(FATAL_ERROR "cementflow needs ${pkg}: install the Debian package '${debian}' "
                        "(or run tools/setup.sh, which installs everything).")
  endif()
endmacro()

# Kokkos >= 3.4 (tools/setup.sh builds 3.4.01 with OpenMP+Serial into .deps/kokkos-openmp;
# a user's own Kokkos 4.x works through -DKokkos_ROOT=...).
find_package(Kokkos 3.4 QUIET)
if(NOT Kokkos_FOUND)
  message(FATAL_ERROR "cementflow needs Kokkos >= 3.4: run tools/setup.sh (it builds Kokkos 3.4.01 "
                      "from Debian's trilinos source package into .deps/) or pass -DKokkos_ROOT=<prefix>. "
                      "Debian's binary libtrilinos-kokkos-dev is Serial-only and its CMake config is broken.")
endif()
message(STATUS "Kokkos ${Kokkos_VERSION} from ${Kokkos_DIR}, devices: ${Kokkos_DEVICES}")
set(CEMENTFLOW_KOKKOS_CUDA OFF)
if("CUDA" IN_LIST Kokkos_DEVICES)
  set(CEMENTFLOW_KOKKOS_CUDA ON)
endif()

# OpenVDB 10 (Debian libopenvdb-dev ships its CMake module here; it needs libboost-iostreams-dev).
list(APPEND CMAKE_MODULE_PATH /usr/lib/x86_64-linux-gnu/cmake/OpenVDB /usr/lib/cmake/OpenVDB
     /usr/local/lib/cmake/OpenVDB)
find_package(OpenVDB QUIET)
cementflow_require(OpenVDB "libopenvdb-dev libboost-iostreams-dev")

find_package(nlohmann_json 3 QUIET)
cementflow_require(nlohmann_json nlohmann-json3-dev)
find_package(CLI11 QUIET)
cementflow_require(CLI11 libcli11-dev)
find_package(PNG QUIET)
cementflow_require(PNG libpng-dev)
# Eigen 3 (header only): fit-rheology's Levenberg–Marquardt (unsupported/Eigen/LevenbergMarquardt).
find_package(Eigen3 3.3 QUIET NO_MODULE)
cementflow_require(Eigen3 libeigen3-dev)

# Image readers of `cementflow import`: libtiff (micro-CT stacks), libnifti2 (NIfTI-1/2) and GDCM
# (DICOM; JPEG 2000 through OpenJPEG). Debian's NIFTI and GDCM CMake configs reference tools that
# are not installed with the -dev packages, so the libraries are found directly.
find_package(TIFF QUIET)
cementflow_require(TIFF libtiff-dev)
find_path(CEMENTFLOW_NIFTI_INCLUDE nifti2_io.h PATH_SUFFIXES nifti)
find_library(CEMENTFLOW_NIFTI2_LIB nifti2)
find_library(CEMENTFLOW_ZNZ_LIB znz)
if(CEMENTFLOW_NIFTI_INCLUDE AND CEMENTFLOW_NIFTI2_LIB AND CEMENTFLOW_ZNZ_LIB)
  set(NIFTI_FOUND TRUE)
endif()
cementflow_require(NIFTI libnifti2-dev)
find_path(CEMENTFLOW_GDCM_INCLUDE gdcmImageReader.h PATH_SUFFIXES gdcm-3.0)
find_library(CEMENTFLOW_GDCM_MSFF gdcmMSFF)
find_library(CEMENTFLOW_GDCM_DSED gdcmDSED)
find_library(CEMENTFLOW_GDCM_COMMON gdcmCommon)
if(CEMENTFLOW_GDCM_INCLUDE AND CEMENTFLOW_GDCM_MSFF AND CEMENTFLOW_GDCM_DSED AND CEMENTFLOW_GDCM_COMMON)
  set(GDCM_FOUND TRUE)
endif()
cementflow_require(GDCM libgdcm-dev)
find_package(ZLIB QUIET)
cementflow_require(ZLIB zlib1g-dev)
add_library(cementflow_images INTERFACE)
target_include_directories(cementflow_images SYSTEM INTERFACE ${CEMENTFLOW_NIFTI_INCLUDE}
  ${CEMENTFLOW_GDCM_INCLUDE})
target_link_libraries(cementflow_images INTERFACE TIFF::TIFF ${CEMENTFLOW_NIFTI2_LIB}
  ${CEMENTFLOW_ZNZ_LIB} ${CEMENTFLOW_GDCM_MSFF} ${CEMENTFLOW_GDCM_DSED} ${CEMENTFLOW_GDCM_COMMON}
  ZLIB::ZLIB m)

# Thrust: CCCL from the CUDA toolkit when present, else Debian's libthrust-dev. On the host the
# device system is OpenMP (or C++ for a Serial-only Kokkos); with a CUDA Kokkos it is CUDA.
find_path(CEMENTFLOW_THRUST_INCLUDE thrust/version.h
  HINTS /usr/local/cuda/include/cccl /usr/local/cuda/include /usr/include)
if(NOT CEMENTFLOW_THRUST_INCLUDE)
  message(FATAL_ERROR "cementflow needs Thrust: install the Debian package 'libthrust-dev' "
                      "(or a CUDA toolkit with CCCL in /usr/local/cuda/include/cccl).")
endif()
message(STATUS "Thrust from ${CEMENTFLOW_THRUST_INCLUDE}")
add_library(cementflow_thrust INTERFACE)
if(CEMENTFLOW_KOKKOS_CUDA)
  # nvcc brings its own CCCL; adding the host copy in front would mix versions.
  target_compile_definitions(cementflow_thrust INTERFACE CEMENTFLOW_THRUST_CUDA=1)
else()
  target_include_directories(cementflow_thrust SYSTEM INTERFACE ${CEMENTFLOW_THRUST_INCLUDE})
  if("OPENMP" IN_LIST Kokkos_DEVICES)
    target_compile_definitions(cementflow_thrust INTERFACE
      THRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_OMP THRUST_HOST_SYSTEM=THRUST_HOST_SYSTEM_CPP
      CEMENTFLOW_THRUST_OMP=1)
  else()
    target_compile_definitions(cementflow_thrust INTERFACE
      THRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_CPP CEMENTFLOW_THRUST_CPP=1)
  endif()
endif()
