"""pytest plugin (entry point ``pytest11``) of the adapter conformance kit."""
