"""The event catalog: CloudEvents envelope, topics and the types they carry, schemas, compiled loaders, publisher."""
