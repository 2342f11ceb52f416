# mmsofteq developer entry points. Every target first makes sure the pinned environment in
# .venv exists (tools/install_env.sh: idempotent, returns at once when up to date; the first
# run on a fresh machine builds mmcv from source, ~20 min on 2 cores).
#
#   make test      - the whole test suite: tests/ and projects/softeq_lab/tests (what CI runs
#                    through .ci/run)
#   make test-fast - the same without the tests marked slow (real Runner / subprocess runs)
#   make demo      - python -m softeq_lab.demo.run_demo: make the digit data, pretrain a small
#                    SegFormer, fine-tune its Base and SoftEq twins, rotated evaluation,
#                    side-by-side table and PNG (~4.5 min on 2 quiet cores)
#   make env    - only create/update .venv

SHELL := /bin/bash
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
PYTHON := $(ROOT)/.venv/bin/python
# -p no:cacheprovider: no .pytest_cache in the checkout; -ra: say why anything was skipped.
PYTEST_FLAGS ?= -q -ra -p no:cacheprovider
TEST_ENV := MPLBACKEND=Agg
TEST_PATHS := tests projects/softeq_lab/tests
# Extra arguments for the demo, e.g. make demo DEMO_ARGS="--softness 0.5" or
# DEMO_ARGS="--pretrain-iters 2000 --finetune-iters 400" (docs/demo_data.md lists them all).
DEMO_ARGS ?=

.PHONY: env test test-fast demo

env:
	bash $(ROOT)/tools/install_env.sh

test: env
	cd $(ROOT) && $(TEST_ENV) $(PYTHON) -m pytest $(TEST_PATHS) $(PYTEST_FLAGS)

test-fast: env
	cd $(ROOT) && $(TEST_ENV) $(PYTHON) -m pytest $(TEST_PATHS) $(PYTEST_FLAGS) -m "not slow"

demo: env
	cd $(ROOT) && $(PYTHON) -m softeq_lab.demo.run_demo $(DEMO_ARGS)
