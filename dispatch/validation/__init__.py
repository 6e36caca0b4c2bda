"""The rules engine: validate work orders with the rules of ``dispatch.rules``, keep the flags.

Import ``dispatch.validation.engine`` (validate these orders, validate this period); the other
modules are the package's own (an import-linter contract keeps them private).
"""
