"""healthd: a JSON-RPC 2.0 node health daemon serving cached check results."""

__version__ = "0.1.0"
