#!/usr/bin/env bash
# README command 2 (and CI, via .ci/run): every check livehouse has, stage by stage, stopping at
# the first failure.
#
#   1. dependencies   scripts/install-deps.sh (Debian packages + npm ci)
#   2. build          the layering check (includes point down), the format check
#                     (clang-format --dry-run -Werror with .clang-format), then build/
#                     (Release, -DLIVEHOUSE_WERROR=ON, g++): everything incl. the server
#   3. tests          ctest in build/: unit, fuzz-corpus replay, integration (real binary +
#                     ffmpeg/ffprobe), e2e (Chromium)
#   4. sanitizers     build-asan/ (ASan+UBSan, asserts on, no server layers): ctest -L 'unit|fuzz'
#   5. tsan           build-tsan/ (ThreadSanitizer): the state layer's tests, whose structures
#                     are shared by every event-loop thread: unit tests, then the backend tests
#                     (contract suites on embedded, Redis, Redis Cluster and PostgreSQL, 8-thread
#                     counter / ranking / inventory runs, the Redis client's own thread, faults)
#   6. fuzz           build-fuzz/ (clang + libFuzzer, -Werror): each tests/fuzz/<name>_fuzz.cpp
#                     runs for LIVEHOUSE_FUZZ_SECONDS (20) over a temp copy of its seed corpus,
#                     so the repository's corpus is never modified
#
# Environment:
#   LIVEHOUSE_QUICK=1          skip stages 4, 5 and 6 (a quick local check)
#   LIVEHOUSE_STAGES="..."     run only these stages (of: deps build tests sanitizers tsan fuzz), e.g.
#                              LIVEHOUSE_STAGES="sanitizers fuzz" to rerun the last two
#   LIVEHOUSE_JOBS=N           build parallelism (default 2: the reference machine has 2 cores)
#   LIVEHOUSE_CTEST_JOBS=N     ctest parallelism (default 2)
#   LIVEHOUSE_FUZZ_SECONDS=N   libFuzzer time per target (default 20)
#
# Budget: under 20 minutes on 2 cores from a cold build tree.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

jobs=${LIVEHOUSE_JOBS:-2}
ctest_jobs=${LIVEHOUSE_CTEST_JOBS:-2}
fuzz_seconds=${LIVEHOUSE_FUZZ_SECONDS:-20}
quick=${LIVEHOUSE_QUICK:-0}
stages=${LIVEHOUSE_STAGES:-deps build tests sanitizers tsan fuzz}
if [[ $quick == 1 ]]; then
    stages=${LIVEHOUSE_STAGES:-deps build tests}
fi
for s in $stages; do
    case $s in
    deps | build | tests | sanitizers | tsan | fuzz) ;;
    *)
        echo "test.sh: unknown stage '$s' in LIVEHOUSE_STAGES (deps build tests sanitizers tsan fuzz)" >&2
        exit 2
        ;;
    esac
done
wanted() { [[ " $stages " == *" $1 "* ]]; }

started=$SECONDS
stage_name="start-up"
stage_started=$SECONDS
summaries=()
total_passed=0
total_failed=0
tmp_dirs=()

stage() {
    stage_name=$1
    stage_started=$SECONDS
    printf '\n==================== [%s] %s ====================\n' "$(date +%H:%M:%S)" "$stage_name"
}

stage_done() {
    printf -- '---- %s: ok (%ds)\n' "$stage_name" $((SECONDS - stage_started))
}

on_exit() {
    local rc=$?
    for d in "${tmp_dirs[@]}"; do
        rm -rf -- "$d"
    done
    if [[ $rc -ne 0 ]]; then
        printf '\n==================== FAILED in stage: %s (exit %d, after %ds) ====================\n' \
            "$stage_name" "$rc" $((SECONDS - started))
    fi
}
trap on_exit EXIT

# Runs ctest, keeps a log, and remembers ctest's own summary lines for the final report.
run_ctest() {
    local label=$1 log=$2
    shift 2
    # pipefail: ctest's exit status survives the tee.
    ctest "$@" 2>&1 | tee "$log"
    local line
    while IFS= read -r line; do
        summaries+=("$label: $line")
    done < <(grep -E 'tests passed|tests failed|Total Test time' "$log")
    local counts
    counts=$(grep -oE '[0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1 || true)
    if [[ -n $counts ]]; then
        local failed=${counts%% *} total=${counts##* }
        total_failed=$((total_failed + failed))
        total_passed=$((total_passed + total - failed))
    fi
}

# The layering rule (docs/ARCHITECTURE.md): src/<layer> includes only its own and lower layers,
# and core, codec and media never include Boost.Asio/Beast. The libraries link only downward,
# but every layer shares src/ as include root and Boost is a system header, so an upward or
# Asio include would still compile: this check is what makes it a build rule.
check_layers() {
    local layers=(core codec media state net services server) i upper found=0
    for i in "${!layers[@]}"; do
        upper=$(
            IFS='|'
            echo "${layers[*]:$((i + 1))}"
        )
        [[ -n $upper ]] || continue
        if grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[\"<]($upper)/" \
            "src/${layers[$i]}"; then
            echo "layering: src/${layers[$i]} includes a higher layer ($upper)" >&2
            found=1
        fi
    done
    # tools/stress (the load tester) sits beside services: core, codec, net, never above.
    if grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<](services|server)/' tools/stress; then
        echo "layering: tools/stress includes services/ or server/" >&2
        found=1
    fi
    if grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<boost/(asio|beast)' \
        src/core src/codec src/media; then
        echo "layering: core, codec and media must not include Boost.Asio/Beast" >&2
        found=1
    fi
    [[ $found -eq 0 ]] || return 1
    echo "layering: ok (includes point down; no Asio in core/codec/media)"
}

# House style is .clang-format: every C++ file of src/, tools/ and tests/ must already be formatted
# (clang-format -i fixes it). A diff fails the build stage, so style never drifts.
check_format() {
    local files
    mapfile -t files < <(find src tests tools -name '*.cpp' -o -name '*.hpp' | sort)
    if ! clang-format --dry-run -Werror "${files[@]}"; then
        echo "format: run clang-format -i on the files above" >&2
        return 1
    fi
    echo "format: ok (${#files[@]} files match .clang-format)"
}

echo "stages: $stages"

# ---------------------------------------------------------------------------------------------
if wanted deps; then
    stage "1/6 dependencies"
    bash scripts/install-deps.sh
    stage_done
fi

# ---------------------------------------------------------------------------------------------
if wanted build; then
    stage "2/6 build (Release, -Werror, $(g++ -dumpfullversion 2>/dev/null || echo g++)) -> build/"
    check_layers
    check_format
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLIVEHOUSE_WERROR=ON
    cmake --build build -j "$jobs"
    stage_done
fi

# ---------------------------------------------------------------------------------------------
if wanted tests; then
    stage "3/6 tests: unit, fuzz-corpus replay, integration, e2e (build/)"
    run_ctest "build (unit, fuzz replay, integration, e2e)" build/ctest.log \
        --test-dir build --output-on-failure --no-tests=error -j "$ctest_jobs"
    stage_done
fi

if wanted sanitizers; then
    # -----------------------------------------------------------------------------------------
    # Debug with -O1: asserts stay on (no NDEBUG) and the tests stay fast enough under ASan.
    # The server layers are off: their Boost.Asio code is covered by the integration tests.
    stage "4/6 sanitizers: ASan + UBSan unit tests and corpus replay -> build-asan/"
    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
        -DLIVEHOUSE_SANITIZE=address,undefined -DLIVEHOUSE_SERVER=OFF
    cmake --build build-asan -j "$jobs"
    ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
        run_ctest "build-asan (unit, fuzz replay)" build-asan/ctest.log \
        --test-dir build-asan --output-on-failure --no-tests=error -j "$ctest_jobs" -L 'unit|fuzz'
    stage_done
fi

if wanted tsan; then
    # -----------------------------------------------------------------------------------------
    # Only the state layer's test binaries: it is where structures are shared across threads
    # without an owning event loop (striped maps, the bus, the streams worker, the Redis
    # client's thread, the PostgreSQL pool). The gtest binaries run directly (the other
    # layers' test binaries are not built in this tree); the backend tests start their own
    # Redis and PostgreSQL servers.
    stage "5/6 tsan: ThreadSanitizer, core and state layer tests -> build-tsan/"
    cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DLIVEHOUSE_SANITIZE=thread
    cmake --build build-tsan -j "$jobs" --target livehouse_core_tests livehouse_state_tests \
        livehouse_backend_tests
    tsan_passed=0
    # core: filling_bytes (one writer, readers on other threads: the edge's streamed bodies),
    # the rate limiter's stripes, the metrics registry.
    for t in tests/livehouse_core_tests tests/livehouse_state_tests \
        tests/backends/livehouse_backend_tests; do
        log=build-tsan/$(basename "$t").tsan.log
        TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
            "build-tsan/$t" 2>&1 | tee "$log"
        n=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) tests*\..*/\1/p' "$log")
        [[ -n $n ]] || { echo "tsan: no gtest summary in $log" >&2; exit 1; }
        tsan_passed=$((tsan_passed + n))
    done
    total_passed=$((total_passed + tsan_passed))
    summaries+=("build-tsan (core, state): ${tsan_passed} tests passed, no ThreadSanitizer report")
    stage_done
fi

if wanted fuzz; then
    # -----------------------------------------------------------------------------------------
    stage "6/6 fuzz: libFuzzer, ${fuzz_seconds}s per target (clang) -> build-fuzz/"
    fuzz_names=()
    for f in tests/fuzz/*_fuzz.cpp; do
        [[ -e $f ]] || continue
        n=$(basename "$f" .cpp)
        fuzz_names+=("${n%_fuzz}")
    done
    if [[ ${#fuzz_names[@]} -eq 0 ]]; then
        echo "no fuzz targets (tests/fuzz/*_fuzz.cpp): nothing to run"
    else
        # Only the fuzz targets (and the core + codec libraries they link) are built here, so
        # -Werror checks exactly the code the house style asks to keep clang-clean.
        cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
            -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLIVEHOUSE_FUZZ=ON -DLIVEHOUSE_SERVER=OFF \
            -DLIVEHOUSE_WERROR=ON
        targets=()
        for n in "${fuzz_names[@]}"; do targets+=("fuzz_$n"); done
        cmake --build build-fuzz -j "$jobs" --target "${targets[@]}"

        # The targets just built (a stale binary of a removed target is not run).
        for name in "${fuzz_names[@]}"; do
            bin=build-fuzz/tests/fuzz/fuzz_$name
            [[ -x $bin ]] || { echo "fuzz_$name was not built" >&2; exit 1; }
            work=$(mktemp -d "${TMPDIR:-/tmp}/livehouse-fuzz-$name.XXXXXX")
            tmp_dirs+=("$work")
            mkdir -p "$work/corpus"
            if [[ -d tests/fuzz/corpus/$name ]]; then
                cp -R "tests/fuzz/corpus/$name/." "$work/corpus/"
            else
                echo "warning: tests/fuzz/corpus/$name is missing; fuzzing from an empty corpus"
            fi
            artifacts="$repo_root/build-fuzz/artifacts/$name"
            mkdir -p "$artifacts"
            seeds=$(find "$work/corpus" -type f | wc -l)
            printf 'fuzz_%s: %d seeds, %ds ... ' "$name" "$seeds" "$fuzz_seconds"
            if ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1} \
                UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
                "$bin" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
                -artifact_prefix="$artifacts/" -print_final_stats=1 "$work/corpus" \
                >"$work/fuzz.log" 2>&1; then
                runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
                cov=$(grep -oE 'cov: [0-9]+' "$work/fuzz.log" | tail -n 1 || true)
                echo "ok (${runs:-?} runs, ${cov:-cov: ?})"
                summaries+=("fuzz_$name: ok, ${runs:-?} runs in ${fuzz_seconds}s, ${cov:-cov: ?}")
            else
                echo "FAILED"
                tail -n 60 "$work/fuzz.log"
                echo "crash inputs (if any) are in $artifacts/; reproduce with: $bin <file>"
                exit 1
            fi
        done
    fi
    stage_done
fi

# ---------------------------------------------------------------------------------------------
printf '\n==================== all stages passed (%s) in %ds ====================\n' "$stages" \
    $((SECONDS - started))
for s in "${summaries[@]}"; do
    echo "$s"
done
# The plain closing line CI reads: every ctest test run above (unit, fuzz replay, integration,
# e2e, and the sanitizer build's), added up.
echo "tests: ${total_passed} passed, ${total_failed} failed"
