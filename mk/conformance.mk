# Differential JSON conformance: >= 100,000 generated documents through dist/qollective.wasm
# (q.decode as an envelope payload, q.validateJson alone) against V8's JSON.parse, with the
# documented exceptions of tests/conformance/EXCEPTIONS.md. About 10 s on two cores.
#   make test-conformance [CONFORMANCE_CASES=100000] [CONFORMANCE_SEED=20240301]

.PHONY: test-conformance

test-conformance: dist/qollective.wasm
	$(if $(CONFORMANCE_CASES),CONFORMANCE_CASES=$(CONFORMANCE_CASES)) $(if $(CONFORMANCE_SEED),CONFORMANCE_SEED=$(CONFORMANCE_SEED)) \
	  $(NODE) --test --test-reporter=spec tests/conformance/
