"""Capability table: which kernel serves each public function on each backend."""

__all__ = ["CAPABILITIES", "capabilities"]

CAPABILITIES = {}


def capabilities(public_name, *, numpy, cupy, generic):
    """Record how ``public_name`` runs on each backend (shown by ``python -m linalgkit info``).

    Each argument is a short phrase, or None where that backend is not supported.
    """

    def register(func):
        CAPABILITIES[public_name] = {"numpy": numpy, "cupy": cupy, "generic": generic}
        return func

    return register
