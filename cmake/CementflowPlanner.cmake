# The planner back end (SPEC.md §8, issue 16): the HTTP service, the Python module and the
# Slicer module's extras. Each optional part builds where its Debian dependency is found
# (option on by default then); tools/setup.sh installs them all, so CI builds and tests them.

include(GNUInstallDirs)
find_package(PkgConfig QUIET)

# --- HTTP service: cpp-httplib (Debian libcpp-httplib-dev, a compiled library + pkg-config file
# whose Cflags carry the OpenSSL/zlib/Brotli defines the library was built with) ----------------
set(_httplib_found OFF)
if(PkgConfig_FOUND)
  pkg_check_modules(CPPHTTPLIB QUIET IMPORTED_TARGET cpp-httplib)
  if(CPPHTTPLIB_FOUND)
    set(_httplib_found ON)
  endif()
endif()
option(CEMENTFLOW_WITH_HTTP "Build `cementflow serve` (needs libcpp-httplib-dev)" ${_httplib_found})
if(CEMENTFLOW_WITH_HTTP)
  if(NOT CPPHTTPLIB_FOUND)
    message(FATAL_ERROR "CEMENTFLOW_WITH_HTTP needs cpp-httplib: install the Debian package "
                        "'libcpp-httplib-dev' (or configure with -DCEMENTFLOW_WITH_HTTP=OFF)")
  endif()
  find_package(Threads REQUIRED)
  add_library(cementflow_service STATIC service/server.cpp)
  target_include_directories(cementflow_service PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(cementflow_service PUBLIC cementflow PkgConfig::CPPHTTPLIB
    nlohmann_json::nlohmann_json Threads::Threads)
  cementflow_warnings(cementflow_service)
  target_link_libraries(cementflow_cli PRIVATE cementflow_service)
  target_compile_definitions(cementflow_cli PRIVATE CEMENTFLOW_WITH_HTTP)
  message(STATUS "HTTP service (cementflow serve): cpp-httplib ${CPPHTTPLIB_VERSION}")
else()
  message(STATUS "HTTP service (cementflow serve): off (no libcpp-httplib-dev)")
endif()

# --- Python module: pybind11 (Debian pybind11-dev) + NumPy (python3-numpy) --------------------
# Debian's own interpreter by default (python3-numpy and python3-pytest live there); pass
# -DPython3_EXECUTABLE=... for another one.
if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "Python interpreter of the module")
endif()
find_package(Python3 QUIET COMPONENTS Interpreter Development.Module NumPy)
set(PYBIND11_FINDPYTHON ON)
find_package(pybind11 CONFIG QUIET)
set(_python_found OFF)
if(Python3_FOUND AND Python3_NumPy_FOUND AND pybind11_FOUND)
  set(_python_found ON)
endif()
option(CEMENTFLOW_WITH_PYTHON "Build the Python module (needs pybind11-dev, python3-numpy)"
  ${_python_found})
if(CEMENTFLOW_WITH_PYTHON)
  if(NOT _python_found)
    message(FATAL_ERROR "CEMENTFLOW_WITH_PYTHON needs the Debian packages 'pybind11-dev', "
                        "'python3-dev' and 'python3-numpy' (or -DCEMENTFLOW_WITH_PYTHON=OFF)")
  endif()
  pybind11_add_module(cementflow_python MODULE python/cementflow_module.cpp)
  set_target_properties(cementflow_python PROPERTIES OUTPUT_NAME cementflow
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/python
    INSTALL_RPATH "${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}")
  target_link_libraries(cementflow_python PRIVATE cementflow)
  cementflow_warnings(cementflow_python)
  set(CEMENTFLOW_PYTHON_INSTALL_DIR
    "lib/python${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}/dist-packages"
    CACHE STRING "Where `make install` puts the Python module (relative to the prefix)")
  install(TARGETS cementflow_python LIBRARY DESTINATION ${CEMENTFLOW_PYTHON_INSTALL_DIR})
  message(STATUS "Python module: ${Python3_EXECUTABLE} (${Python3_VERSION}), pybind11 "
                 "${pybind11_VERSION}, NumPy ${Python3_NumPy_VERSION}")
else()
  message(STATUS "Python module: off (needs pybind11-dev, python3-dev, python3-numpy)")
endif()

# --- DICOM SEG output of the Slicer module: DCMTK (Debian libdcmtk-dev) -----------------------
find_package(DCMTK CONFIG QUIET)
set(_dcmtk_found OFF)
if(DCMTK_FOUND AND TARGET DCMTK::dcmseg)
  set(_dcmtk_found ON)
endif()
option(CEMENTFLOW_WITH_DICOM_SEG "DICOM SEG output of `cementflow slicer` (needs libdcmtk-dev)"
  ${_dcmtk_found})
if(CEMENTFLOW_WITH_DICOM_SEG)
  if(NOT _dcmtk_found)
    message(FATAL_ERROR "CEMENTFLOW_WITH_DICOM_SEG needs DCMTK: install the Debian package "
                        "'libdcmtk-dev' (or -DCEMENTFLOW_WITH_DICOM_SEG=OFF)")
  endif()
  target_sources(cementflow_cli PRIVATE tools/cli/dicom_seg.cpp)
  target_link_libraries(cementflow_cli PRIVATE DCMTK::dcmseg DCMTK::dcmfg DCMTK::dcmiod
    DCMTK::dcmdata DCMTK::ofstd)
  target_compile_definitions(cementflow_cli PRIVATE CEMENTFLOW_WITH_DICOM_SEG)
  message(STATUS "DICOM SEG output: DCMTK ${DCMTK_VERSION}")
else()
  message(STATUS "DICOM SEG output: off (no libdcmtk-dev)")
endif()
