# Set-up and checks. Every target creates the virtual environment and installs what is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The PyTorch release the project is tested with (constraints.txt pins it with everything else).
TORCH := torch==2.14.1 torchvision==0.29.1

.PHONY: demo test lint lock listing gallery lab-screenshots clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The main job: the speed route on Fashion-MNIST (the embedded default), 93% in about 2 minutes.
demo: $(STAMP)
	$(BIN)/cnnzoo train speedrun

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts/gpu-check
	$(BIN)/ruff format --check src tests benchmarks scripts/gpu-check
	$(BIN)/mypy
	$(BIN)/lint-imports

# Rewrite the table `cnnzoo list` reads (after adding a model or changing a count).
listing: $(STAMP)
	$(BIN)/python -c "from tests.helpers import write_listing; write_listing()"
	$(BIN)/ruff format src/cnnzoo/listing.py

# Draw every zoo model into docs/zoo (after changing a model or the drawing).
gallery: $(STAMP)
	rm -f docs/zoo/*.svg
	$(BIN)/cnnzoo draw --all --output-dir docs/zoo
	$(BIN)/cnnzoo draw vgg19 plain34 resnet34 --side-by-side --no-stats --output docs/zoo/fig3/resnet_fig3.svg

# The README's pictures of the lab: a short run and a tiny experiment, each page shot.
lab-screenshots: $(STAMP)
	$(BIN)/python docs/lab/screenshots.py

# Resolve the dev install afresh and pin every package it pulls in.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet $(TORCH) -e '.[dev]'
	{ sed -n '/^#/p' constraints.txt; .lock-venv/bin/pip freeze --exclude-editable; } > constraints.lock
	mv constraints.lock constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
