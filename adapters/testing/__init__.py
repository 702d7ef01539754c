"""The adapter conformance kit: ``adapter_test_class`` gives any adapter a standard pytest suite."""
