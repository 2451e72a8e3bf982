# Every target creates .venv from pyproject.toml when it is missing.
PY := .venv/bin/python
VENV_STAMP := .venv/.installed

.PHONY: run test lint bench bench-batch bench-folder score clean

$(VENV_STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade uv
	$(PY) -m uv pip install --python $(PY) -q -e '.[dev]'
	touch $(VENV_STAMP)

run: $(VENV_STAMP)
	bash scripts/run-samples.sh

test: $(VENV_STAMP)
	bash scripts/test.sh

lint: $(VENV_STAMP)
	.venv/bin/ruff check pipeline flows tests bench testkit samples
	.venv/bin/ruff format --check pipeline flows tests bench testkit samples

score: $(VENV_STAMP)
	python3 ../shared/eval/score.py ../shared/corpus/dev --run '$(PY) -m pipeline extract {pdf} --json {out}'

bench: $(VENV_STAMP)
	$(PY) bench/bench_extract.py
	$(PY) bench/bench_reconcile.py
	$(PY) bench/bench_planted_corpus.py
	$(PY) bench/bench_wording.py

bench-batch: $(VENV_STAMP)
	$(PY) bench/bench_batch.py

bench-folder: $(VENV_STAMP)
	$(PY) bench/bench_folder_extract.py

clean:
	rm -rf .venv outputs/* .pytest_cache .ruff_cache
