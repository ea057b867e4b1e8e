# The README's commands. Each target sets up .venv first (once; again when
# requirements.txt or pyproject.toml change).
#
#   make book    execute every chapter (cached) and build the HTML book into _build/html
#   make test    package tests + doctests (TensorFlow, then JAX), nbval over every chapter,
#                build and browse the book
#   make lab     open the chapters in JupyterLab
#   make bench   time every chapter and collect its figures in book/_results/PROFILE-DEVICE.json
#                (BENCH_PROFILE=full for the full profile; the execution statistics page shows them)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JB_FLAGS := -W -n --keep-going

# The kernel "python3" is the one in .venv, even if the user has another
# kernel of that name in ~/.local/share/jupyter (JUPYTER_PATH comes first).
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter

# Where we are root and may make a network namespace, the chapters and tests
# run with the network cut off (loopback only): proof that nothing is downloaded.
OFFLINE := $(shell if [ "$$(id -u)" = 0 ] && command -v ip >/dev/null 2>&1 && unshare -n true 2>/dev/null; then echo "unshare -n sh tests/offline.sh"; fi)

.PHONY: setup book test test-package test-notebooks test-book lab bench clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

book: setup
	$(BIN)/jupyter-book build . $(JB_FLAGS)

# nbval executes every chapter once and compares it with its committed outputs;
# the book is then built from those verified outputs without executing again.
test: test-package test-notebooks test-book

# The package tests twice: on TensorFlow (the book's backend), then on JAX in a fresh
# pytest process (tests of TensorFlow lessons skip there, saying why).
test-package: setup
	$(OFFLINE) $(BIN)/python -m pytest -m "not notebooks and not browser"
	KERAS_BACKEND=jax $(OFFLINE) $(BIN)/python -m pytest -m "not notebooks and not browser"

# The chapters run once, on another kernel path than the one that wrote their
# outputs (TF_ENABLE_ONEDNN_OPTS=0: TensorFlow's CPU kernels without oneDNN, as
# on another processor), so every run shows that the outputs reproduce on a
# different CPU. tests/nbval_figures.py compares the drifting figures within
# their declared tolerances and everything else exactly (CONTRIBUTING.md).
test-notebooks: export TF_ENABLE_ONEDNN_OPTS := 0
test-notebooks: setup
	$(OFFLINE) $(BIN)/python -m pytest -p tests.nbval_figures --nbval --nbval-current-env \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=900 book

test-book: setup
	@mkdir -p _build
	sed -e 's/^\(  *execute_notebooks:\).*/\1 "off"/' -e 's#: book/_ext$$#: $(CURDIR)/book/_ext#' \
	    _config.yml > _build/_config_noexec.yml
	$(BIN)/jupyter-book build . --config _build/_config_noexec.yml --all $(JB_FLAGS)
	$(BIN)/python -m pytest -m "browser" tests/test_book.py

lab: setup
	$(BIN)/jupyter lab book

BENCH_PROFILE ?= quick
bench: setup
	$(BIN)/python -m cnn_tutor.bench --profile $(BENCH_PROFILE)

clean:
	rm -rf _build
