# The two commands of the README: `make demo` and `make test` each install what is missing first.
.PHONY: setup demo test test-portable lint bench clean

# The tests whose results go through floating-point kernels (BLAS, vectorised ATen, threads) and are compared
# with a closed form or another implementation. The CLI tests that only compare a command's output with the
# library's on the same kernels (gap-cli, margins-cli, gdv-cli, gram-cli, depth-cli) run once, in `npm test`.
NUMERIC_TESTS = baselines converge-models converge depth engine gd gdv gradients gram hessian ntk \
	landscape margins pac-bayes input-gradient pytorch rbm regression shape-ae shape-align shape-baselines spectra \
	claim-intervals dbn-sklearn lbfgs readout shape-moments

setup:
	@bash scripts/setup.sh

# The demo succeeds when every claim ran; exit code 1 only means some claim does not hold.
demo: setup
	node bin/dltheory.js reproduce --quick || [ $$? -eq 1 ]

# OpenBLAS's SSE kernels, ATen without AVX, one thread: other summation orders than the default
# run's, so a comparison that holds only for one processor's kernels fails there.
PORTABLE = OPENBLAS_CORETYPE=Nehalem ATEN_CPU_CAPABILITY=default DLTHEORY_THREADS=1 \
	node --test --test-concurrency=1 $(NUMERIC_TESTS:%=dist/test/%.test.js)

# The whole suite on this machine's kernels, then the numerical tests on kernels any x86-64 runs.
test: setup
	npm test
	$(PORTABLE)

test-portable: setup
	$(PORTABLE)

# dprint formats (dprint.json; `npx dprint fmt` rewrites), Biome lints (biome.json); both only check here.
lint: setup
	npx dprint check
	npx biome lint

bench: setup
	node bin/dltheory.js bench

clean:
	rm -rf build dist
