"""Announcing state changes to other systems: webhooks and Alertmanager (contract §10)."""
