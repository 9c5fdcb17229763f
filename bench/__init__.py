"""Benchmarks (issue 9): projection throughput, freshness, query latency at scale, growth, memory. See docs/performance.md."""
