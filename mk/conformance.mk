# JSON conformance of every module (q.decode as an envelope payload, q.validateJson alone):
# - differential.test.mjs: >= 100,000 generated documents against V8's JSON.parse, with the
#   documented exceptions of tests/conformance/EXCEPTIONS.md. About 10 s on two cores.
# - jsontestsuite.test.mjs: the 318 files of nst/JSONTestSuite (vendored in
#   tests/conformance/JSONTestSuite), i_ outcomes as serde_json's. Well under a second.
#   make test-conformance [CONFORMANCE_CASES=100000] [CONFORMANCE_SEED=20240301]

.PHONY: test-conformance

CONFORMANCE_TESTS := tests/conformance/differential.test.mjs tests/conformance/jsontestsuite.test.mjs

# Run once per module (tests/js/module.mjs): each module ships the same JSON scanner.
test-conformance: all
	@rm -rf build/canary/conformance
	$(foreach m,$(MODULES),QOLLECTIVE_MODULE=$(m) QOLLECTIVE_WASM=$($(m)_WASM) \
	  $(if $(CONFORMANCE_CASES),CONFORMANCE_CASES=$(CONFORMANCE_CASES)) $(if $(CONFORMANCE_SEED),CONFORMANCE_SEED=$(CONFORMANCE_SEED)) \
	  $(call CANARY_RUN,conformance) --test --test-reporter=spec $(CONFORMANCE_TESTS) &&) true
	$(call CANARY_CHECK,conformance) $(CONFORMANCE_TESTS)
