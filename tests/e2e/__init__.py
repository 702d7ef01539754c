"""Federation between real gateways in separate processes, over mutual TLS on loopback."""
