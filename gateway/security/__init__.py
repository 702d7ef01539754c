"""Security: certificates, caller identity, authorisation."""
