"""The contract's rules: what makes a record valid, how it is keyed, and how it is taken in.

This package sits directly above the generated code (``liaison.v1``) and below everything else:
the adapters, the conformance kit, the store's writer process and the gateway all import it, and
it imports neither gRPC nor the gateway. Its modules:

* :mod:`liaison.rules.ids` - the identifier patterns (record ids, centre ids, list names) and
  the version bound;
* :mod:`liaison.rules.errors` - the root of every exception Liaison raises, and the grpc-free
  refusal of invalid input with its field violations;
* :mod:`liaison.rules.validation` - the validation of a record, every violation reported;
* :mod:`liaison.rules.indexing` - record kinds, the normalisation of names and document numbers,
  and the search keys of a record;
* :mod:`liaison.rules.intake` - from a submitted or forwarded record to the one item format the
  store writes (:class:`~liaison.rules.intake.WriteItem`).

It lives beside the generated code (``protos/liaison/``), in the ``liaison`` namespace, because
the rules are the contract's own: a third-party adapter depends on ``liaison`` already, and gets
the same rules the gateway applies without depending on the gateway.
"""
