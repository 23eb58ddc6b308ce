# Two entry points (see README): `make demo` restores a real SEM frame with the bundled model,
# `make test` runs the test suite. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED_DATA := $(abspath ../shared/data/midnet-sem)
ifneq ($(wildcard $(SHARED_DATA)/blur),)
export MIDNET_DATA ?= $(SHARED_DATA)
endif

.PHONY: setup demo test bench clean

$(BIN)/midnet: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned to the CPU build available here; the package accepts torch>=2.2
	$(BIN)/pip install --quiet torch==2.13.0
	# [all]: the export (ONNX, bioimage.io) and napari extras, so that their tests run too
	$(BIN)/pip install --quiet -e ".[test,all]"
	touch $(BIN)/midnet

setup: $(BIN)/midnet

demo: setup
	$(BIN)/midnet demo --out demo-output

# Everything the tests need comes from `setup` (PyPI): no system packages, no display. The napari
# tests use Qt's offscreen platform and a viewer without its OpenGL window (tests/napari/conftest.py).
# Large tensors on transparent huge pages (glibc >= 2.35; ignored elsewhere): about 1.6x faster
# model passes on a CPU (docs/results/huge-pages/), the same setting `midnet` gives itself.
test: setup
	GLIBC_TUNABLES=$${GLIBC_TUNABLES:+$$GLIBC_TUNABLES:}glibc.malloc.hugetlb=1 $(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python benchmarks/model_costs.py

clean:
	rm -rf $(VENV) demo-output
