# gunicorn settings shared by every API and the gateway: scripts/stack.sh, the test fixtures
# (tests/support/system.py), the Dockerfile and docker-compose.yml all start gunicorn with `-c` this file.
# Command-line flags (bind, workers, threads) override what is set here.

# The threaded worker, answering gunicorn's own refusals (malformed request line, header or transfer coding,
# oversized request line or headers) with problem+json and a 4xx instead of an HTML page (docs/decisions.md).
worker_class = "shared.http_server.ProblemWorker"
threads = 8

# Limits of what gunicorn reads before the application (its defaults, written down): a request line over
# 4 KiB is a 414, more than 100 headers or a header over 8 KiB a 431.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

graceful_timeout = 5
