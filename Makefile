# labelscope: `make run` serves the app on the demo data, `make test` runs every test.
# Both set everything up themselves: .venv, pinned requirements, the demo dataset.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= data/demo
PEOPLE ?= 200
PORT   ?= 8501

.PHONY: venv demo scan run test test-fast bench clean-demo

$(STAMP): requirements.txt requirements-nodeps.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt -c constraints.txt
	$(BIN)/pip install -q --no-deps -r requirements-nodeps.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

$(DEMO)/train.csv: | $(STAMP)
	$(BIN)/labelscope demo $(DEMO) --people $(PEOPLE) --overwrite

demo: $(DEMO)/train.csv

scan: demo
	$(BIN)/labelscope scan $(DEMO)

run: scan
	@# suspects rank in a background job while the app opens (the Overview shows its progress)
	@test -f $(DEMO)/.labelscope/suspects.parquet || $(BIN)/labelscope suspects $(DEMO) --background || true
	@echo "labelscope: serving http://localhost:$(PORT) (Ctrl+C to stop)"
	$(BIN)/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT) \
		--server.allowedHosts localhost --server.allowedHosts 127.0.0.1 --server.allowedHosts ::1 -- --dataset $(DEMO)

test: demo
	$(BIN)/python -m pytest -q --durations=15

bench: scan
	$(BIN)/python bench/scan.py $(DEMO)
	$(BIN)/python bench/review.py
	$(BIN)/python bench/feeding.py

clean-demo:
	rm -rf $(DEMO)
