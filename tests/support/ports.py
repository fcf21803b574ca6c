import socket


def free_port() -> int:
    """A loopback port nothing listens on (just released by the kernel): a server's port, or a dead service's."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
