# The two commands: `make run` starts a local network, `make test` runs the whole suite.
# Both install what is missing first: a virtualenv at .venv (pinned requirements), hls.js via npm ci.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test deps test-deps system-deps clean

run: deps
	@mkdir -p var
	$(BIN)/honcho -f Procfile.dev start

test: deps test-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

deps: $(VENV)/.installed node_modules/.installed

test-deps: $(VENV)/.test-installed system-deps

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements-test.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Browser tests drive Debian's Chromium (Playwright's own browser download is not used);
# tracker tests also run on a private PostgreSQL server; the home-edge tests (tests/netns) build NATs
# in network namespaces with iptables, an https proxy with nginx and a UPnP gateway with miniupnpd
# (its nftables backend). All come from Debian when missing.
SYSTEM_PACKAGES := $(if $(wildcard /usr/bin/chromium),,chromium) \
	$(if $(wildcard /usr/lib/postgresql/*/bin/initdb),,postgresql) \
	$(if $(wildcard /usr/sbin/ip),,iproute2) $(if $(wildcard /usr/sbin/iptables),,iptables) \
	$(if $(wildcard /usr/sbin/nginx),,nginx) \
	$(if $(wildcard /usr/sbin/miniupnpd),,miniupnpd-nftables)
system-deps:
ifneq ($(strip $(SYSTEM_PACKAGES)),)
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES)
endif

clean:
	rm -rf var .pytest_cache
