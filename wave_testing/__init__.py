"""WAVE's testing kit: rule-enforcing fakes of Discord, Slack and an OpenAI-compatible server, tiny models with
random weights, worker harnesses and fault injectors. The tests and the benches import it; no production package
does (tests/test_layers.py checks that)."""
