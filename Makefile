# Thin wrappers over scripts/ (which need only bash and python3, so a fresh machine without
# make can run them directly, as the README's Quick start does).
.PHONY: demo test bench setup clean

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

bench: setup
	.venv/bin/spectrum bench

setup:
	bash scripts/setup.sh

clean:
	rm -rf .venv out .pytest_cache .hypothesis
