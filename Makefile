# The two commands of the README: `make demo` and `make test` each install what is missing first.
.PHONY: setup demo test bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	node bin/dltheory.js reproduce --quick

test: setup
	npm test

bench: setup
	node bin/dltheory.js bench

clean:
	rm -rf build dist
