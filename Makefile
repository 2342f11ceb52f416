# mmsofteq developer entry points. Every target first makes sure the pinned environment in
# .venv exists (tools/install_env.sh: idempotent, returns at once when up to date; the first
# run on a fresh machine builds mmcv from source, ~15 min on 2 cores).
#
#   make test   - the whole test suite (what CI runs through .ci/run)
#   make demo   - tools/run_demo.py (fallback until it exists: a tiny SegFormer training)
#   make env    - only create/update .venv

SHELL := /bin/bash
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
PYTHON := $(ROOT)/.venv/bin/python
# -p no:cacheprovider: no .pytest_cache in the checkout; -ra: say why anything was skipped.
PYTEST_FLAGS ?= -q -ra -p no:cacheprovider
# tests/ on sys.path so tests can `from fixtures import ...` (tests/fixtures.py).
TEST_ENV := PYTHONPATH=$(ROOT)/tests$${PYTHONPATH:+:$${PYTHONPATH}} MPLBACKEND=Agg
DEMO_DIR ?= $(ROOT)/work_dirs/demo

.PHONY: env test demo

env:
	bash $(ROOT)/tools/install_env.sh

test: env
	cd $(ROOT) && $(TEST_ENV) $(PYTHON) -m pytest tests $(PYTEST_FLAGS)

demo: env
	@cd $(ROOT) && if [[ -f tools/run_demo.py ]]; then \
		$(PYTHON) tools/run_demo.py; \
	else \
		echo "[demo] FALLBACK (tools/run_demo.py not written yet): tiny SegFormer, 20 iters on generated VOC-layout data"; \
		$(TEST_ENV) $(PYTHON) -c "from fixtures import make_tiny_voc, tiny_segformer_cfg; \
			root = make_tiny_voc('$(DEMO_DIR)/data', num_images=16, size=64, num_classes=4); \
			tiny_segformer_cfg(root, '$(DEMO_DIR)', num_classes=4, size=64, max_iters=20).dump('$(DEMO_DIR)/tiny_segformer.py')" \
		&& $(PYTHON) tools/train.py $(DEMO_DIR)/tiny_segformer.py; \
	fi
