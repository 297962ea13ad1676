# Faultline: two commands do everything on a fresh machine.
#   make up     set up (system packages, Node 24, dependencies, build), bring the lab up on the local target, print where it is
#   make test   set up, then run lint, typecheck and every test against the lab's real infrastructure
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
# The setup installs Node 24 here when the machine's node is older; every later step uses it.
export PATH := $(CURDIR)/.tools/node/bin:$(PATH)
# Nx's background daemon would outlive `make`; the lab stops what it starts, so Nx runs in-process.
export NX_DAEMON := false
TARGET ?= local

.PHONY: setup up down status test lint typecheck build clean help

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

setup: ## install missing system packages (as root), Node 24 if needed, dependencies; build every app
	@tools/setup/ensure-system-packages.sh
	@tools/setup/ensure-node.sh
	@tools/setup/install-dependencies.sh
	@npm run --silent build

up: setup ## set up and bring the lab up (TARGET=local|kind)
	@npx lab up --target $(TARGET)
	@npx lab status --target $(TARGET)

down: ## stop everything the lab started
	@npx lab down --target $(TARGET)

status: ## state, pid, port and health of every component
	@npx lab status --target $(TARGET)

test: setup ## set up and run lint, typecheck and every test (see README: Tests)
	@tools/setup/ensure-system-packages.sh --tests
	@npm test --silent

lint: ## ESLint over the repository, including module boundaries
	@npm run --silent lint

typecheck: ## tsc over every app and lib
	@npm run --silent typecheck

build: ## compile every app and lib into dist/
	@npm run --silent build

clean: down ## stop the lab and remove its state, build output and dependencies
	rm -rf .lab dist node_modules
