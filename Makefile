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

# Two phases: the tests that start no live stack on every core (pytest-xdist; a module's tests stay
# on one worker, so its module fixtures are built once), then the live tiers (`e2e`, `conformance`:
# whole stacks at 25-100x real time) one after the other with the machine to themselves, as they
# are timing-sensitive. Both phases always run; either failing fails the target.
test: deps lint
	@$(PY) -m pytest -m "not e2e and not conformance" -n auto --dist loadfile; fast=$$?; \
	$(PY) -m pytest -m "e2e or conformance"; live=$$?; \
	exit $$(( fast || live ))

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
