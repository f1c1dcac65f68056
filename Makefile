# The two commands of the README: `make demo` and `make test` each install what is missing first.
.PHONY: setup demo test bench clean

setup:
	@bash scripts/setup.sh

# The demo succeeds when every claim ran; exit code 1 only means some claim does not hold.
demo: setup
	node bin/dltheory.js reproduce --quick || [ $$? -eq 1 ]

test: setup
	npm test

bench: setup
	node bin/dltheory.js bench

clean:
	rm -rf build dist
