"""The board's HTTP service (needs the ``server`` extra: Starlette and uvicorn).

Nothing below the edge imports this package: the verifier, the client and the watcher
work without a web stack.
"""
