# The two set-up commands from README.md: `make demo` and `make test`.
.PHONY: demo test bench lint

demo:
	scripts/setup.sh
	.venv/bin/veil demo

test:
	scripts/setup.sh test,mining,bench,server,agent,sites
	scripts/test.sh

bench:
	scripts/setup.sh test,mining,bench,server,agent,sites
	.venv/bin/python -m bench.redaction
