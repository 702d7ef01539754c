"""Security findings reproduced as attacks over mutual TLS, and the defences that stop them."""
