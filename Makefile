# The two commands of the README, and what they are made of.
#   make verify   install what is missing, then render and verify every environment (what CI checks)
#   make test     install what is missing, then lint and run the whole test suite
.PHONY: deps verify test lint format generate docs golden

PY := .venv/bin/python
CFMON := .venv/bin/cfmon

deps:
	@tools/install-deps

verify: deps
	@tools/verify

# Three lanes at once (tools/test says how and why): the tests that start no live stack on every
# core at the lowest CPU priority, and the live tiers (`e2e`, `conformance`: whole stacks at
# 25-100x real time) in two lanes beside them, each pinned to cores of its own. Every lane always
# runs; any failing fails the target.
test: deps lint
	@tools/test

lint: deps
	@.venv/bin/ruff check tools/cfmon tests benchmarks
	@.venv/bin/ruff format --check tools/cfmon tests benchmarks
	@find jsonnet -name '*.jsonnet' -o -name '*.libsonnet' | sort | xargs .tools/bin/jsonnetfmt --test
	@echo "lint: OK"

format: deps
	@.venv/bin/ruff format tools/cfmon tests benchmarks
	@.venv/bin/ruff check --fix tools/cfmon tests benchmarks
	@find jsonnet -name '*.jsonnet' -o -name '*.libsonnet' | xargs .tools/bin/jsonnetfmt -i

generate: deps
	@$(CFMON) generate

docs: deps
	@$(CFMON) docs

golden: deps
	@$(CFMON) render --env all && $(CFMON) golden --env all --update
