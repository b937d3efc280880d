# smartmirror: one Makefile for the engine, models, tools, viewer, tests and benchmarks.
#
#   make                 build every library and program into build/
#   make test            install what is missing (as root), build, run every suite
#   make run             build, fetch/convert the face models, run the mirror
#   make bench           kernel and model benchmarks (smw-bench)
#   make bench-compare   our engine vs ONNX Runtime, TorchScript, TFLite (BENCH_ARGS=...)
#   make bench-pipeline  the live pipeline, headless real time on a 640x480 clip
#   make fuzz            every libFuzzer harness (FUZZ_SECONDS=N, FUZZ_SEED=S)
#   make test-arm64      aarch64 cross build, suites under qemu-user
#   make test-riscv64    riscv64 cross build (scalar kernels), suites under qemu-user
#   make models          fetch the MediaPipe face models (npm) and convert them
#   make eval-fatigue    replay tests/fixtures/eval/fatigue tracks: events found vs annotated
#   make eval-heart      heart-rate estimators vs contact ground truth (docs/HEART.md)
#   make eval-emotion    default expression model's accuracy on real labelled photos
#   make eval-bf16       BF16 vs FP32 on every model (accuracy of the BF16 path)
#   make deps            check/install build and test dependencies
#   make clean
# Variables: CC=clang, SANITIZE=1 (address+undefined), SANITIZE=thread (TSan: the
#            thread pool and its callers), BLAS=none (own GEMM only),
#            CROSS=aarch64-linux-gnu- (cross build), V=1 (show commands),
#            JOBS=N (compilers at once in the test targets; default one per CPU).
#            SM_AVX512BF16=0 (leave out the native AVX-512 BF16 kernel, built by default on x86-64).

CC := $(if $(filter default,$(origin CC)),$(CROSS)gcc,$(CC))
AR := $(CROSS)ar
PKG_CONFIG ?= pkg-config
PYTHON ?= /usr/bin/python3
SANITIZE ?= 0
BLAS ?= openblas
# make test and the cross test targets build with one compiler per CPU
JOBS ?= $(shell getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)

TARGET_MACHINE := $(shell $(CC) -dumpmachine 2>/dev/null)
ifneq ($(findstring aarch64,$(TARGET_MACHINE)),)
  ARCH := aarch64
else ifneq ($(findstring x86_64,$(TARGET_MACHINE)),)
  ARCH := x86_64
else ifneq ($(findstring riscv64,$(TARGET_MACHINE)),)
  ARCH := riscv64
else
  ARCH := other
endif

# Each build flavour gets its own object tree so they never mix.
FLAVOUR := $(if $(CROSS),$(ARCH),)$(if $(filter-out gcc cc,$(notdir $(CC))),$(if $(CROSS),,$(notdir $(CC))),)$(if $(filter 1,$(SANITIZE)),-asan,)$(if $(filter thread,$(SANITIZE)),-tsan,)$(if $(filter none,$(BLAS)),-noblas,)$(if $(filter 0,$(SM_AVX512BF16)),-nobf16,)
FLAVOUR := $(patsubst -%,%,$(FLAVOUR))
B := build$(if $(FLAVOUR),/$(FLAVOUR),)

# A cross build reads the target's multiarch .pc files, and before them those of
# libraries built for the target by tests/deps.sh into build/cross/<triplet>
# (Check for riscv64, which Debian 12 does not package).
ifeq ($(CROSS),)
  PKGS_ENV :=
else
  CROSS_PC := $(abspath build/cross/$(patsubst %-,%,$(CROSS))/lib/pkgconfig):/usr/lib/$(patsubst %-,%,$(CROSS))/pkgconfig
  PKGS_ENV := PKG_CONFIG_PATH=$(CROSS_PC) PKG_CONFIG_LIBDIR=$(CROSS_PC)
endif
pkg = $(shell $(PKGS_ENV) $(PKG_CONFIG) $(1) $(2) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
OPT ?= -O2
CPPFLAGS_ALL := -D_GNU_SOURCE
# Each library sees the public headers of the libraries below it and its own, so
# a private header cannot leak upwards: engine (include/ public; core/, kernels/
# private) < models (the networks) < app (analysis: fatigue, heart, mirror,
# pipeline, session) < tools, viewer. Tests and the kernel benchmark are white-box
# and see everything.
INC_ENGINE := -Iengine/include -Iengine/core -Iengine/kernels
INC_MODELS := -Iengine/include -Imodels
INC_APP := $(INC_MODELS) -Iapp
INC_TOOLS := $(INC_APP) -Itools
INC_VIEWER := $(INC_APP) -Iviewer
INC_BENCH := $(INC_APP) -Iengine/kernels -Ibench
INC_TESTS := $(INC_ENGINE) -Imodels -Iapp -Itools -Iviewer -Itests/support
CFLAGS_ALL := -std=c11 $(OPT) -g $(WARN) -fno-strict-aliasing -pthread $(CFLAGS)
LDLIBS_ALL := -lm -pthread
ifeq ($(SANITIZE),1)
  CFLAGS_ALL += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDLIBS_ALL += -fsanitize=address,undefined
else ifeq ($(SANITIZE),thread)
  CFLAGS_ALL += -fsanitize=thread -fno-omit-frame-pointer
  LDLIBS_ALL += -fsanitize=thread
endif

ifeq ($(BLAS),none)
  CPPFLAGS_ALL += -DSM_NO_BLAS
  BLAS_CFLAGS :=
  BLAS_LIBS :=
else
  BLAS_CFLAGS := $(call pkg,--cflags,openblas)
  BLAS_LIBS := $(call pkg,--libs,openblas)
endif
CHECK_CFLAGS := $(call pkg,--cflags,check)$(if $(CROSS), -idirafter /usr/include,)
CHECK_LIBS := $(call pkg,--libs,check)
# The viewer (SDL2 + libjpeg-turbo) is left out of cross builds and of machines
# without those libraries; the engine, models, tools and their tests still build.
ifneq ($(CROSS),)
  NO_VIEWER ?= 1
endif
ifeq ($(shell $(PKGS_ENV) $(PKG_CONFIG) --exists sdl2 libturbojpeg 2>/dev/null && echo yes),)
  NO_VIEWER ?= 1
endif
NO_VIEWER ?= 0
SDL_CFLAGS := $(call pkg,--cflags,sdl2)
SDL_LIBS := $(call pkg,--libs,sdl2)
JPEG_CFLAGS := $(call pkg,--cflags,libturbojpeg)
JPEG_LIBS := $(call pkg,--libs,libturbojpeg)

# ISA-specific kernel files: <name>-<isa>.c, each compiled with only its own flags.
ISA_FLAGS_avx2 := -mavx2 -mfma
ISA_FLAGS_avx512f := -mavx512f -mavx512dq -mavx512bw -mavx512vl -mavx2 -mfma
ISA_FLAGS_neon :=
ifeq ($(ARCH),x86_64)
  ISAS := avx2 avx512f
else ifeq ($(ARCH),aarch64)
  ISAS := neon
else
  ISAS :=
endif
ALL_ISAS := avx2 avx512f avx512bf16 neon
# The native BF16 GEMM kernel (-avx512bf16.c): built by default on x86-64, chosen at
# run time only on a CPU whose CPUID reports avx512_bf16 (sm_bf16_gemm_for); its source
# runs in the tests everywhere under tests/simd_model. SM_AVX512BF16=0 leaves it out.
ISA_FLAGS_avx512bf16 := $(ISA_FLAGS_avx512f) -mavx512bf16
SM_AVX512BF16 ?= 1
ifeq ($(SM_AVX512BF16)$(ARCH),1x86_64)
  ISAS += avx512bf16
  CPPFLAGS_ALL += -DSM_HAVE_AVX512BF16
endif
isa_of = $(lastword $(subst -, ,$(basename $(notdir $(1)))))
skip_isa = $(foreach f,$(1),$(if $(filter $(ALL_ISAS),$(call isa_of,$(f))),$(if $(filter $(ISAS),$(call isa_of,$(f))),$(f),),$(f)))

ENGINE_SRC := $(call skip_isa,$(sort $(wildcard engine/core/*.c engine/graph/*.c engine/image/*.c engine/kernels/*/*.c)))
ENGINE_SRC := $(filter-out engine/kernels/ref/%,$(ENGINE_SRC))
REF_SRC := $(wildcard engine/kernels/ref/*.c)
MODELS_SRC := $(sort $(wildcard models/*.c))
APP_SRC := $(sort $(wildcard app/*.c))
TOOL_MAINS := $(sort $(wildcard tools/smw-*.c))
TOOLS_SRC := $(filter-out $(TOOL_MAINS),$(sort $(wildcard tools/*.c)))
VIEWER_MAIN := viewer/main.c
VIEWER_SRC := $(filter-out $(VIEWER_MAIN),$(sort $(wildcard viewer/*.c)))
BENCH_MAIN := bench/smw-bench.c
BENCH_SRC := $(filter-out $(BENCH_MAIN),$(sort $(wildcard bench/*.c)))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_SUPPORT_SRC := $(sort $(wildcard tests/support/*.c))

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

LIB_ENGINE := $(B)/libsmengine.a
LIB_REF := $(B)/libsmref.a
LIB_MODELS := $(B)/libsmmodels.a
LIB_APP := $(B)/libsmapp.a
LIB_TOOLS := $(B)/libsmtools.a
LIB_VIEWER := $(B)/libsmviewer.a
LIB_TESTSUPPORT := $(B)/libsmtestsupport.a

TOOL_BINS := $(patsubst tools/%.c,$(B)/%,$(TOOL_MAINS))
ifeq ($(NO_VIEWER),1)
  VIEWER_SRC :=
  VIEWER_BIN :=
  # suites that read frames through the viewer's sources need it too
  TEST_SRC := $(filter-out tests/test_viewer% tests/test_sources% tests/test_pipeline%,$(TEST_SRC))
  SDL_LIBS :=
  JPEG_LIBS :=
else
  VIEWER_BIN := $(if $(wildcard $(VIEWER_MAIN)),$(B)/smartmirror,)
endif
BENCH_BIN := $(if $(wildcard $(BENCH_MAIN)),$(B)/smw-bench,)
TEST_BINS := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRC))

# The viewer needs SDL2 and libjpeg-turbo; everything else only libc, libm, pthreads, BLAS.
CORE_LIBS := $(LIB_TOOLS) $(LIB_APP) $(LIB_MODELS) $(LIB_ENGINE)
# JPEG decoding (engine/image/jpeg.c) uses libjpeg-turbo when it is there.
CORE_LDLIBS := $(BLAS_LIBS) $(JPEG_LIBS) $(LDLIBS_ALL)
$(B)/obj/engine/image/jpeg.o: CFLAGS_ALL += $(if $(JPEG_LIBS),-DSM_HAVE_TURBOJPEG $(JPEG_CFLAGS),)
VIEWER_LDLIBS := $(SDL_LIBS) $(JPEG_LIBS)

ifeq ($(V),1)
  Q :=
else
  Q := @
endif

.PHONY: eval-fatigue all test test-build run bench bench-compare bench-pipeline models deps deps-test deps-run clean fuzz test-arm64 test-riscv64 help
.PHONY: eval-heart
.PHONY: eval-emotion
.PHONY: eval-bf16
.DEFAULT_GOAL := all

all: $(TOOL_BINS) $(VIEWER_BIN) $(BENCH_BIN)

help:
	@sed -n '2,21p' Makefile

$(B)/obj/%-avx2.o: %-avx2.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC [avx2]   $<",)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(INC_ENGINE) $(CFLAGS_ALL) $(ISA_FLAGS_avx2) -MMD -MP -c $< -o $@

$(B)/obj/%-avx512f.o: %-avx512f.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC [avx512] $<",)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(INC_ENGINE) $(CFLAGS_ALL) $(ISA_FLAGS_avx512f) -MMD -MP -c $< -o $@

$(B)/obj/%-avx512bf16.o: %-avx512bf16.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC [avx512] $<",)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(INC_ENGINE) $(CFLAGS_ALL) $(ISA_FLAGS_avx512bf16) -MMD -MP -c $< -o $@

$(B)/obj/viewer/%.o: viewer/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC          $<",)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(INC_VIEWER) $(CFLAGS_ALL) $(SDL_CFLAGS) $(JPEG_CFLAGS) -MMD -MP -c $< -o $@

# Debian's aarch64-linux-gnu-gcc 12.2 crashes (ICE in vect_transform_reduction)
# vectorising a test's error reductions; tests need no vectorisation anyway.
TEST_CROSS_CFLAGS := $(if $(CROSS),-fno-tree-vectorize,)
$(B)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC          $<",)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(INC_TESTS) $(if $(JPEG_LIBS),-DSM_HAVE_TURBOJPEG,) $(CFLAGS_ALL) $(TEST_CROSS_CFLAGS) $(CHECK_CFLAGS) $(SDL_CFLAGS) $(JPEG_CFLAGS) -MMD -MP -c $< -o $@

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC          $<",)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(INC) $(CFLAGS_ALL) $(BLAS_CFLAGS) -MMD -MP -c $< -o $@
$(B)/obj/engine/%.o: INC := $(INC_ENGINE)
$(B)/obj/models/%.o: INC := $(INC_MODELS)
$(B)/obj/app/%.o: INC := $(INC_APP)
$(B)/obj/tools/%.o: INC := $(INC_TOOLS)
$(B)/obj/bench/%.o: INC := $(INC_BENCH)

define static_lib
$(1): $(call obj,$(2))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	$(Q)$(AR) rcs $$@ $$^
endef
$(eval $(call static_lib,$(LIB_ENGINE),$(ENGINE_SRC)))
$(eval $(call static_lib,$(LIB_REF),$(REF_SRC)))
$(eval $(call static_lib,$(LIB_MODELS),$(MODELS_SRC)))
$(eval $(call static_lib,$(LIB_APP),$(APP_SRC)))
$(eval $(call static_lib,$(LIB_TOOLS),$(TOOLS_SRC)))
$(eval $(call static_lib,$(LIB_VIEWER),$(VIEWER_SRC)))
$(eval $(call static_lib,$(LIB_TESTSUPPORT),$(TEST_SUPPORT_SRC)))

$(B)/smw-%: $(B)/obj/tools/smw-%.o $(CORE_LIBS)
	@$(if $(Q),echo "  LD          $@",)
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(CORE_LDLIBS)

$(B)/smartmirror: $(call obj,$(VIEWER_MAIN)) $(LIB_VIEWER) $(CORE_LIBS)
	@$(if $(Q),echo "  LD          $@",)
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(VIEWER_LDLIBS) $(CORE_LDLIBS)

$(B)/smw-bench: $(call obj,$(BENCH_MAIN) $(BENCH_SRC)) $(LIB_REF) $(CORE_LIBS)
	@$(if $(Q),echo "  LD          $@",)
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(CORE_LDLIBS)

$(B)/tests/%: $(B)/obj/tests/%.o $(LIB_TESTSUPPORT) $(LIB_VIEWER) $(LIB_REF) $(CORE_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD          $@",)
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(CHECK_LIBS) $(VIEWER_LDLIBS) $(CORE_LDLIBS)

# ---- AVX-512 kernels under the software model (tests/simd_model) -------------
# Every -avx512f.c / -avx512bf16.c kernel compiled a second time, for any target,
# against tests/simd_model/immintrin.h (a C model of the intrinsics they use), its
# global sm_* symbols renamed <name>_model so the copy links beside the real kernel:
# test_ukernels, test_bf16 and test_simd_model run these sources on every machine.
SIMD_MODEL_SRC := $(sort $(wildcard engine/kernels/*/*-avx512f.c engine/kernels/*/*-avx512bf16.c))
SIMD_MODEL_OBJ := $(patsubst engine/kernels/%.c,$(B)/obj/simd_model/%.o,$(SIMD_MODEL_SRC))
LIB_SIMD_MODEL := $(B)/libsmsimdmodel.a
NM := $(CROSS)nm
OBJCOPY := $(CROSS)objcopy
$(B)/obj/simd_model/%.o: engine/kernels/%.c tests/simd_model/immintrin.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC [model]  $<",)
	$(Q)$(CC) $(CPPFLAGS_ALL) -Itests/simd_model $(INC_ENGINE) $(CFLAGS_ALL) -ffp-contract=off -Wno-psabi \
	    -MMD -MP -MT $@ -MF $(@:.o=.d) -c $< -o $@.tmp
	$(Q)$(NM) -g --defined-only $@.tmp | awk '$$3 ~ /^sm_/ { print $$3, $$3 "_model" }' >$@.syms
	$(Q)test -s $@.syms && $(OBJCOPY) --redefine-syms=$@.syms $@.tmp $@ && rm -f $@.tmp $@.syms
$(LIB_SIMD_MODEL): $(SIMD_MODEL_OBJ)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^
$(B)/tests/test_ukernels $(B)/tests/test_bf16 $(B)/tests/test_simd_model: $(LIB_SIMD_MODEL)
$(B)/obj/tests/test_simd_model.o: CFLAGS_ALL += -ffp-contract=off -Wno-psabi
# on x86, the real AVX2/FMA instructions the model is compared with
SIMD_MODEL_CHECK := $(if $(filter avx2,$(ISAS)),$(B)/obj/tests/simd_model/check-avx2.o,)
$(B)/tests/test_simd_model: $(SIMD_MODEL_CHECK)
$(B)/obj/tests/simd_model/check-avx2.o: tests/simd_model/check-avx2.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC [avx2]   $<",)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(ISA_FLAGS_avx2) -MMD -MP -c $< -o $@
$(B)/obj/tests/test_simd_model.o: CPPFLAGS_ALL += $(if $(SIMD_MODEL_CHECK),-DSM_MODEL_CHECK_AVX2,)

# ---- dependencies -----------------------------------------------------------
deps: deps-test deps-run
deps-test:
	@sh tests/deps.sh test
deps-run:
	@sh tests/deps.sh run

# ---- tests ------------------------------------------------------------------
# `make test` checks/installs dependencies first, then re-enters make so that the
# pkg-config flags are read after any install.
test: deps-test
	@$(MAKE) --no-print-directory -j$(JOBS) test-build
	@B=$(B) PYTHON=$(PYTHON) sh tests/run-tests.sh

test-build: all $(TEST_BINS)

# ---- running ------------------------------------------------------------------
run: deps-run
	@$(MAKE) --no-print-directory all
	@B=$(B) sh viewer/run.sh

models:
	@B=$(B) sh models/fetch-face-models.sh

# heart-rate accuracy on the committed real traces (docs/HEART.md); EVAL_HEART_DIR= another set
eval-heart: all
	@$(B)/smw-heart-eval $(or $(EVAL_HEART_DIR),tests/fixtures/eval/heart) --clips

bench: all
	@B=$(B) sh bench/run.sh $(BENCH_ARGS)

bench-compare: all
	@B=$(B) sh bench/compare.sh $(BENCH_ARGS)

bench-pipeline: all
	@B=$(B) sh bench/pipeline.sh $(BENCH_ARGS)

# issue 14: both fatigue rule sets on the committed real-clip tracks (docs/FATIGUE.md)
eval-fatigue: all
	@$(B)/smw-fatigue-eval --rules both tests/fixtures/eval/fatigue

# BF16 vs FP32 on every model (docs/PERFORMANCE.md, BF16 section); needs ffmpeg, numpy
eval-bf16: all
	@$(PYTHON) tests/eval_bf16.py --bin $(B)/smw-run --convert $(B)/smw-convert --models models \
	    --fixtures $(B)/fixtures $(EVAL_ARGS)

# docs/EMOTION.md; SM_EMOTION_EVAL_LOCAL=DIR adds photos kept locally
eval-emotion: all
	@$(PYTHON) tests/eval_emotion.py --bin $(B)/smw-run --models models $(EVAL_ARGS)

fuzz:
	@FUZZ_SEED=$(FUZZ_SEED) sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# aarch64: NEON and scalar kernels; the longest model suites run their documented
# quick subset (SM_TEST_QUICK, docs/PORTING.md) as under riscv64.
test-arm64:
	@sh tests/deps.sh arm64
	@$(MAKE) --no-print-directory -j$(JOBS) CROSS=aarch64-linux-gnu- BLAS=none test-build
	@B=build/aarch64-noblas SM_TEST_RUNNER="qemu-aarch64 -L /" CK_FORK=no SM_TEST_QUICK=1 \
	    PYTHON=$(PYTHON) sh tests/run-tests.sh

# riscv64: scalar kernels only (no RVV variants yet), the documented quick subset of
# the longest suites (docs/PORTING.md section 4); Check is cross-built from
# Debian's source package by tests/deps.sh. The cross toolchain's own libc serves
# as the run-time root (Debian 12 has no riscv64 libc6 to install).
test-riscv64:
	@sh tests/deps.sh riscv64
	@$(MAKE) --no-print-directory -j$(JOBS) CROSS=riscv64-linux-gnu- BLAS=none test-build
	@B=build/riscv64-noblas SM_TEST_RUNNER="qemu-riscv64 -L /usr/riscv64-linux-gnu" CK_FORK=no \
	    SM_TEST_QUICK=1 SM_KERNELS_QUICK=1 \
	    PYTHON=$(PYTHON) sh tests/run-tests.sh

clean:
	rm -rf build

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
