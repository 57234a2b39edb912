# The two set-up commands from README.md: `make demo` and `make test`.
.PHONY: demo test bench lint

demo:
	scripts/setup.sh
	.venv/bin/veil demo

test:
	scripts/setup.sh test,mining,bench,server,agent,sites,ray
	scripts/test.sh

bench:
	scripts/setup.sh test,mining,bench,server,agent,sites,ray
	.venv/bin/python -m bench.redaction
