# The commands people type. Everything runs on this machine: real Kafka, real PostgreSQL.
.PHONY: run stop reset test unit lint fuzz reliability-report bench bench-security status lock cluster cluster-down

run:            ## set up and run the whole system with demo data
	scripts/stack.sh run

stop:           ## stop everything `make run` started (data is kept)
	scripts/stack.sh stop

reset:          ## stop and delete all local data
	scripts/stack.sh reset

test:           ## set up Kafka + PostgreSQL and run the whole test suite
	scripts/stack.sh test

unit:           ## only the fast tests without I/O
	scripts/stack.sh test tests/unit

lint:           ## ruff (check, format), mypy; promtool (config, alert rules and tests, dashboard queries); compose schema; spectral (OpenAPI)
	scripts/stack.sh lint

fuzz:           ## property-based and schemathesis tests with random seeds and more examples (prints a failing seed)
	HYPOTHESIS_PROFILE=fuzz scripts/stack.sh test tests/security/test_schemathesis.py tests/unit -p no:cacheprovider

reliability-report:  ## write the figures of docs/reliability.md (.run/test-figures.jsonl) and of the cluster in docs/operations.md (.run/cluster-figures.json)
	.venv/bin/python scripts/reliability_report.py
	.venv/bin/python scripts/cluster_report.py

cluster:        ## a local three-broker Kafka cluster (replication factor 3, min.insync.replicas=2); ports PORTAL_CLUSTER_BASE_PORT (29092)..+5
	scripts/stack.sh cluster up

cluster-down:   ## stop the three-broker cluster (data is kept)
	scripts/cluster.sh down

status:
	scripts/stack.sh status

bench:          ## benchmarks (print figures, write docs/performance.md)
	scripts/stack.sh bench

bench-security: ## what TLS + SASL cost the publisher and a projector vs plaintext (writes docs/security.md)
	scripts/stack.sh bench-security

lock:           ## re-resolve constraints.txt after a pyproject.toml change (`scripts/lock.sh --upgrade`: newest versions)
	scripts/lock.sh
