"""Flask helpers of the services' internal APIs: app factory, parsing, problems, health, logging and metrics."""
