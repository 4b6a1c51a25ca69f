# Browser tests (headless Chromium via playwright-core) and the browser example.
#   make test-browser     the suite in tests/browser/ (needs /usr/bin/chromium; CHROMIUM_PATH overrides)
#   make serve-example    reference REST server + static server; open the printed URL, Ctrl-C stops both

EXAMPLE_HOST        ?= 127.0.0.1
EXAMPLE_REST_PORT   ?= 8080
EXAMPLE_STATIC_PORT ?= 8000

test-browser: all
	@rm -rf build/canary/browser
	$(call CANARY_RUN,browser) --test --test-reporter=spec tests/browser/browser.test.mjs tests/browser/ws.test.mjs
	$(call CANARY_CHECK,browser) tests/browser/browser.test.mjs tests/browser/ws.test.mjs

# Runs until Ctrl-C, or until either server exits (e.g. its port is taken); then stops the other.
serve-example: all
	@stop() { kill $$rest $$site 2>/dev/null; wait; }; trap 'stop; exit 0' INT TERM; \
	$(NODE) tests/servers/rest-server.mjs --host $(EXAMPLE_HOST) --port $(EXAMPLE_REST_PORT) & rest=$$!; \
	$(NODE) tests/browser/static-server.mjs --host $(EXAMPLE_HOST) --port $(EXAMPLE_STATIC_PORT) & site=$$!; \
	echo; echo "  open http://$(EXAMPLE_HOST):$(EXAMPLE_STATIC_PORT)/examples/browser/?server=http://$(EXAMPLE_HOST):$(EXAMPLE_REST_PORT)"; \
	echo "  (Ctrl-C stops both servers)"; echo; \
	wait -n; rc=$$?; stop; exit $$rc
