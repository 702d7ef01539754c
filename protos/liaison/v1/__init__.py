"""liaison.v1: the generated Python for the ``liaison.v1`` protobuf package.

Everything here except this file is generated from ``protos/liaison/v1/*.proto`` by ``make protos``
and committed; ``make protos-check`` fails when the committed code drifts from the sources.
"""
