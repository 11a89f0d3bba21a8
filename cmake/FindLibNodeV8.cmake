# Finds V8 10.2 as shipped in Debian's libnode108 (nodejs 18) and defines the imported target
# wasmgate::v8.
#
# Search order: LibNodeV8_ROOT (if set), third_party/libnode/usr (unpacked by
# scripts/setup-v8.sh), then /usr (Debian's libnode-dev, when it is properly installed). A prefix
# is accepted only if its v8-version.h says 10.2 and libnode.so.108 sits next to it, so the
# nodejs 20 headers another repository may have put in /usr/include/node are never picked up.
#
# Sets LibNodeV8_FOUND, LibNodeV8_INCLUDE_DIR, LibNodeV8_LIBRARY, LibNodeV8_VERSION.
#
# The target links libnode.so.108 by full path and adds an RPATH to its directory, so binaries
# run without LD_LIBRARY_PATH. It defines WG_WITH_V8 (src/wasm/engines/v8/*.cc compile to
# nothing without it) and never V8_COMPRESS_POINTERS: Debian's V8 is built without pointer
# compression and mismatched headers crash immediately. -fno-sanitize=vptr because libnode is
# built without RTTI, so UBSan's vptr check cannot link against V8's polymorphic classes.

get_filename_component(_wg_v8_project_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(CMAKE_LIBRARY_ARCHITECTURE)
  set(_wg_v8_arch "${CMAKE_LIBRARY_ARCHITECTURE}")
else()
  set(_wg_v8_arch "x86_64-linux-gnu")
endif()

set(_wg_v8_prefixes)
if(LibNodeV8_ROOT)
  list(APPEND _wg_v8_prefixes "${LibNodeV8_ROOT}")
endif()
list(APPEND _wg_v8_prefixes "${_wg_v8_project_root}/third_party/libnode/usr" "/usr")

unset(LibNodeV8_INCLUDE_DIR)
unset(LibNodeV8_LIBRARY)
unset(LibNodeV8_VERSION)
foreach(_prefix IN LISTS _wg_v8_prefixes)
  set(_inc "${_prefix}/include/node")
  set(_lib "${_prefix}/lib/${_wg_v8_arch}/libnode.so.108")
  if(NOT EXISTS "${_inc}/v8-version.h" OR NOT EXISTS "${_inc}/v8.h" OR NOT EXISTS "${_lib}")
    continue()
  endif()
  file(STRINGS "${_inc}/v8-version.h" _major REGEX "^#define V8_MAJOR_VERSION +[0-9]+")
  file(STRINGS "${_inc}/v8-version.h" _minor REGEX "^#define V8_MINOR_VERSION +[0-9]+")
  string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _major "${_major}")
  string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _minor "${_minor}")
  if(NOT "${_major}.${_minor}" STREQUAL "10.2")
    message(STATUS "LibNodeV8: skipping ${_inc} (V8 ${_major}.${_minor}, need 10.2)")
    continue()
  endif()
  set(LibNodeV8_INCLUDE_DIR "${_inc}")
  set(LibNodeV8_LIBRARY "${_lib}")
  set(LibNodeV8_VERSION "${_major}.${_minor}")
  break()
endforeach()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LibNodeV8
  REQUIRED_VARS LibNodeV8_LIBRARY LibNodeV8_INCLUDE_DIR
  VERSION_VAR LibNodeV8_VERSION
  FAIL_MESSAGE "V8 10.2 (Debian libnode108) not found: run scripts/setup-v8.sh")

if(LibNodeV8_FOUND AND NOT TARGET wasmgate::v8)
  get_filename_component(_wg_v8_libdir "${LibNodeV8_LIBRARY}" DIRECTORY)
  add_library(wasmgate::v8 SHARED IMPORTED)
  set_target_properties(wasmgate::v8 PROPERTIES
    IMPORTED_LOCATION "${LibNodeV8_LIBRARY}"
    IMPORTED_SONAME "libnode.so.108"
    INTERFACE_INCLUDE_DIRECTORIES "${LibNodeV8_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "WG_WITH_V8"
    INTERFACE_COMPILE_OPTIONS "-fno-sanitize=vptr"
    INTERFACE_LINK_OPTIONS "LINKER:-rpath,${_wg_v8_libdir}")
endif()
