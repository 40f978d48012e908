# Two commands: `make demo` (build everything on the demo data, print the segments) and
# `make test` (lint + pytest, which runs real dbt builds). Both create .venv when missing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DBT := $(BIN)/dbt
export CUSTOMER_SEGMENTATION_DB ?= customer_segmentation.duckdb
# dbt reads profiles.yml from the repository root; the Makefile always runs from there.
export DBT_PROFILES_DIR := $(CURDIR)
# Models, singular tests and analyses; generic tests are Jinja macros and are not linted.
SQL_LINTED := dbt_project/models $(wildcard tests/*.sql) $(wildcard analysis/*.sql)

.PHONY: help env demo demo-rfm build publish report bench test lint format unit e2e docs clean test-spark semantic

help:
	@echo "make demo   build everything on the demo data and print the segment summary"
	@echo "make demo-rfm  the rfm preset on the demo purchases (customer_segmentation_rfm.duckdb)"
	@echo "make test   ruff + sqlfluff + pytest (unit tests and real dbt builds)"
	@echo "make build  dbt build with ARGS, e.g. make build ARGS=\"--vars '{input_path: my.csv}'\""
	@echo "make report write reports/segmentation_report.html from the built tables"
	@echo "make bench  measured timings and sizes (bench/results.md)"
	@echo "make docs   dbt docs generate"
	@echo "make clean  remove the database, dbt target/ and logs/"
	@echo "make test-spark  Spark engine tests on local Spark (installs the spark extra; needs Java 17)"
	@echo "make semantic  dbt semantic layer: install MetricFlow, validate, example query, its test"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

env: $(STAMP)

build: $(STAMP)
	$(DBT) build $(ARGS)
	$(BIN)/customer-segmentation publish

demo: $(STAMP)
	$(DBT) build
	$(BIN)/customer-segmentation publish
	@echo
	$(BIN)/customer-segmentation summary

# The rfm preset on the demo purchases (seeds/demo_transactions.csv), in its own database.
demo-rfm: export CUSTOMER_SEGMENTATION_DB = customer_segmentation_rfm.duckdb
demo-rfm: $(STAMP)
	$(DBT) build --vars '{preset: rfm}'
	@echo
	$(BIN)/customer-segmentation summary

publish: $(STAMP)
	$(BIN)/customer-segmentation publish

report: $(STAMP)
	$(BIN)/python -m customer_segmentation.report --out reports/segmentation_report.html

bench: $(STAMP)
	$(BIN)/python bench/run.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint $(SQL_LINTED)

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix $(SQL_LINTED)

unit: $(STAMP)
	$(BIN)/pytest -m "not e2e"

e2e: $(STAMP)
	$(BIN)/pytest -m e2e

test: lint
	$(BIN)/pytest

docs: $(STAMP)
	$(DBT) docs generate

clean:
	rm -rf target logs serving reports spark-warehouse customer_segmentation.duckdb customer_segmentation.duckdb.wal customer_segmentation_rfm.duckdb

# The Spark engine and its local test harness: `.[dev,spark]` (dbt-spark, pyspark) into the same
# .venv, then tests/spark on a local[2] SparkSession. Not part of `make test` (testpaths).
SPARK_STAMP := $(VENV)/.installed-spark

$(SPARK_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	@touch $(SPARK_STAMP)

test-spark: $(SPARK_STAMP)
	$(BIN)/pytest -m spark tests/spark

# dbt's semantic layer: the `semantic` extra (dbt-metricflow) into the same .venv, then MetricFlow
# validates the semantic models and metrics and answers an example query on the demo build,
# then the semantic pytest (customers by segment add up to the customer count).
SEMANTIC_STAMP := $(VENV)/.installed-semantic

$(SEMANTIC_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,semantic]'
	@touch $(SEMANTIC_STAMP)

semantic: $(SEMANTIC_STAMP)
	$(DBT) build
	$(BIN)/mf validate-configs
	$(BIN)/mf query --metrics customers --group-by customer__segment_name \
		--order-by customer__segment_name
	$(BIN)/pytest -m semantic tests/python/test_semantic.py
