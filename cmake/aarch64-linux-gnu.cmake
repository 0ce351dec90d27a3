# Cross build for linux-arm64 (aarch64) with Debian's cross compiler, run through qemu-user:
#   apt-get install g++-aarch64-linux-gnu qemu-user
#   cmake -S . -B build-arm64-core -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
#         -DRETINANET_CORE_TESTS=ON -DRETINANET_SANITIZE=OFF
# (scripts/check-arm64.sh does this, and builds and loads the addon too.) Keep RETINANET_SANITIZE
# OFF here: the sanitizers and qemu-user do not mix well (LeakSanitizer cannot stop the threads
# under qemu-aarch64 and ends the sanitized driver with a fatal error; ASan needs its shadow
# memory mapped inside qemu's emulated address space), so the sanitized run stays the x86-64 one
# (.ci/run). CUDA is off: there is no aarch64 nvcc here.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(RETINANET_AARCH64_PREFIX "aarch64-linux-gnu" CACHE STRING "the cross compiler's triplet prefix")
set(CMAKE_C_COMPILER ${RETINANET_AARCH64_PREFIX}-gcc)
set(CMAKE_CXX_COMPILER ${RETINANET_AARCH64_PREFIX}-g++)

# Libraries and headers of the target (Debian's multiarch cross sysroot); programs of the host.
set(CMAKE_FIND_ROOT_PATH /usr/${RETINANET_AARCH64_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# ctest (and add_test) run the target's programs through qemu-user with the cross sysroot's loader.
set(CMAKE_CROSSCOMPILING_EMULATOR "qemu-aarch64;-L;/usr/${RETINANET_AARCH64_PREFIX}")

set(RETINANET_CUDA OFF CACHE STRING "no CUDA in the aarch64 cross build" FORCE)
