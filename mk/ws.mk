# WebSocket benchmark (bench/ws.mjs): `make bench` runs it in full and writes bench/results/ws.json;
# `make test` runs a short smoke that asserts only that it completes (speed goals live in the bench).
.PHONY: bench-ws test-ws-smoke
bench: bench-ws
bench-ws: deps all
	$(NODE) bench/ws.mjs
test-ws-smoke: all
	$(NODE) bench/ws.mjs --smoke
test: test-ws-smoke
