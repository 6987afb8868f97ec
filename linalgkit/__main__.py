"""Command line: ``python -m linalgkit {info,tour}``."""

import argparse

from ._info import print_info
from ._tour import run_tour


def main(argv=None):
    """Parse ``argv`` and run the chosen command."""
    parser = argparse.ArgumentParser(prog="python -m linalgkit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="versions, threads, and whether CuPy, a GPU and Dask answer")
    commands.add_parser("tour", help="one short demonstration per algorithm family, as a table")
    args = parser.parse_args(argv)
    {"info": print_info, "tour": run_tour}[args.command]()


if __name__ == "__main__":
    main()
