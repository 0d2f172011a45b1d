"""Evaluation, apart from the runtime: scoring against labels, bench-detect, confidence reliability, throughput and service benchmarks.

Used by the CLI and the tests; never imported by the detector, the sources or the live sensor."""
